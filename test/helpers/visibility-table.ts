/** The visibility table shared by the unit test (the predicate) and the integration test (the SQL). */
import type { Viewer, VisibilityFacts } from '../../src/library/visibility.js';

export const VIEWERS: Record<'member' | 'manager' | 'audit', Viewer> = {
  member: { platform: 'slack', workspace: 'T1', user: 'UME', manager: false, audit: false },
  manager: { platform: 'slack', workspace: 'T1', user: 'UME', manager: true, audit: false },
  audit: { platform: 'slack', workspace: 'T1', user: 'UME', manager: false, audit: true },
};

const img = (o: Partial<VisibilityFacts>): VisibilityFacts => ({ platform: 'slack', workspace: 'T1', user: 'UOTHER', channelKind: 'public', deleted: false, ...o });

export const IMAGES: Record<string, VisibilityFacts> = {
  'own (in a DM)': img({ user: 'UME', channelKind: 'dm' }),
  'own (private channel)': img({ user: 'UME', channelKind: 'private' }),
  'public channel': img({ channelKind: 'public' }),
  'Playground': img({ channelKind: 'playground' }),
  'private channel': img({ channelKind: 'private' }),
  'DM': img({ channelKind: 'dm' }),
  'other workspace (public)': img({ workspace: 'T2' }),
  'other platform, same workspace id': img({ platform: 'lark' }),
  'other workspace, same user id': img({ workspace: 'T2', user: 'UME' }),
  'deleted (own)': img({ user: 'UME', deleted: true }),
};

//                                     member  manager audit
export const TABLE: Record<string, [boolean, boolean, boolean]> = {
  'own (in a DM)':                     [true,  true,   true],
  'own (private channel)':             [true,  true,   true],
  'public channel':                    [true,  true,   true],
  'Playground':                        [true,  true,   true],
  'private channel':                   [false, false,  true],
  'DM':                                [false, false,  true],
  'other workspace (public)':          [false, false,  false],
  'other platform, same workspace id': [false, false,  false],
  'other workspace, same user id':     [false, false,  false],
  'deleted (own)':                     [false, false,  false],
};
