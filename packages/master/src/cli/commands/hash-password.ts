// `lathe hash-password`: the scrypt hash of a password, for `www.auth.users` in the config.
// The password is read from standard input, never from the command line, where other users
// could see it (ps) and the shell would keep it (history).
import { hashPassword } from '../../auth/password.js';
import { type Command, EXIT, positionalsUnlessHelp, UsageError } from '../usage.js';

const help = `Usage: lathe hash-password < password-file
       printf %s 'the password' | lathe hash-password

Reads a password from standard input (the first line, without its line ending)
and prints its scrypt hash, for the config:

  www: { auth: { users: { alice: { password: '<the hash>', roles: ['admin'] } } } }

Options:
  -h, --help  show this help
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const hashPasswordCommand: Command = {
  help,
  summary: 'print the scrypt hash of a password read from stdin',
  async run(argv, io) {
    const positionals = positionalsUnlessHelp(argv, io, help);
    if (!positionals) return EXIT.OK;
    if (positionals.length > 0)
      throw new UsageError('the password is read from standard input, not given as an argument', help);
    const password = (await readStdin()).split(/\r?\n/)[0]!;
    if (password === '') throw new UsageError('standard input holds no password', help);
    io.out(await hashPassword(password));
    return EXIT.OK;
  },
};
