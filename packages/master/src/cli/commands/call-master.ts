// One call on the running master's control channel, with the master's refusals (a PBError
// such as "no builder named x") reported as such and exit status 1.
import { ConnectionLostError, type RemoteReference } from '@lathe/pb';
import { openControl, remoteMessage } from '../control-client.js';
import type { MasterDir } from '../masterdir.js';
import { EXIT, type Io } from '../usage.js';

export async function callMaster(
  dir: MasterDir,
  command: string,
  io: Io,
  call: (avatar: RemoteReference) => Promise<number>,
): Promise<number> {
  const session = await openControl(dir);
  try {
    return await call(session.avatar);
  } catch (err) {
    if (err instanceof ConnectionLostError) throw err;
    io.err(`lathe ${command}: the master refused: ${remoteMessage(err)}`);
    return EXIT.FAILED;
  } finally {
    session.close();
  }
}
