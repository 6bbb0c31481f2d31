import { upgradeMaster } from '../../commands.js';
import { runningMasterPid } from '../daemon/master-process.js';
import { masterDir } from '../masterdir.js';
import { atMostOneDir, type Command, EXIT, positionalsUnlessHelp } from '../usage.js';

const help = `Usage: lathe upgrade-master [dir]

Brings the database the configuration names up to the current schema (runs the
pending migrations). Run it with the master stopped, after upgrading Lathe.

Options:
  -h, --help   show this help
`;

export const upgradeMasterCommand: Command = {
  help,
  summary: 'upgrade the database schema (run migrations)',
  async run(argv, io) {
    const positionals = positionalsUnlessHelp(argv, io, help);
    if (!positionals) return EXIT.OK;
    const dir = masterDir(atMostOneDir(positionals, help));
    const pid = runningMasterPid(dir.pidFile);
    if (pid !== undefined) {
      io.err(`lathe upgrade-master: the master in ${dir.basedir} is running (pid ${pid}); stop it first`);
      return EXIT.FAILED;
    }
    const { database, applied } = await upgradeMaster(dir.basedir);
    io.out(
      applied.length === 0
        ? `${database}: already up to date`
        : `${database}: applied ${applied.length} migration(s): ${applied.join(', ')}`,
    );
    return EXIT.OK;
  },
};
