/** Who a gallery session speaks for: a chat identity exactly as the platform's verified request named it. */
import { z } from 'zod';

export interface ChatIdentity {
  platform: string;
  workspace: string;
  user: string;
  /** The name they go by, for the page's "signed in as". */
  userName?: string;
}

export const chatIdentitySchema = z.object({
  platform: z.string().min(1).max(40),
  workspace: z.string().min(1).max(200),
  user: z.string().min(1).max(200),
  userName: z.string().max(200).optional(),
});

/** The identity without anything else a record may carry (and with a name only when there is one). */
export function identityOf(r: { platform: string; workspace: string; user: string; userName?: string | undefined }): ChatIdentity {
  return { platform: r.platform, workspace: r.workspace, user: r.user, ...(r.userName ? { userName: r.userName.slice(0, 200) } : {}) };
}
