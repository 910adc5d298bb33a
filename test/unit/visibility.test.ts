/**
 * The visibility rules as a table: viewer role (member, manager, audit) × image (own, public channel,
 * Playground, private channel, DM, other workspace, deleted) → may they see it? The SQL form of the same
 * rule is checked against this predicate in test/integration/library-compliance.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { canReadUsage, canSee } from '../../src/library/visibility.js';
import { IMAGES, TABLE, VIEWERS as viewers } from '../helpers/visibility-table.js';

describe('who sees which image', () => {
  for (const [name, expected] of Object.entries(TABLE)) {
    it(`${name}: member ${expected[0]}, manager ${expected[1]}, audit ${expected[2]}`, () => {
      expect([canSee(viewers.member, IMAGES[name]!), canSee(viewers.manager, IMAGES[name]!), canSee(viewers.audit, IMAGES[name]!)]).toEqual(expected);
    });
  }

  it('tombstones are seen by auditors who ask for them, by nobody else', () => {
    const deleted = IMAGES['deleted (own)']!;
    expect(canSee(viewers.audit, deleted, { includeDeleted: true })).toBe(true);
    expect(canSee(viewers.member, deleted, { includeDeleted: true })).toBe(false);
    expect(canSee(viewers.manager, deleted, { includeDeleted: true })).toBe(false);
    expect(canSee(viewers.audit, { ...deleted, workspace: 'T2' }, { includeDeleted: true })).toBe(false);
  });

  it('usage figures are for managers and auditors', () => {
    expect([canReadUsage(viewers.member), canReadUsage(viewers.manager), canReadUsage(viewers.audit)]).toEqual([false, true, true]);
  });
});
