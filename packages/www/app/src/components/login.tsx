// The top bar's login: a small form, or who is logged in and a way out.
import { useState } from 'preact/hooks';
import { login, logout, useMe } from '../auth';

export function Login() {
  const me = useMe();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (me.user)
    return (
      <span class="login">
        <span data-testid="user">{me.user}</span>{' '}
        <button type="button" onClick={() => void logout()}>
          Log out
        </button>
      </span>
    );
  if (!open)
    return (
      <button type="button" class="login" onClick={() => setOpen(true)}>
        Log in
      </button>
    );
  return (
    <form
      class="login"
      onSubmit={async (e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        try {
          await login(String(form.get('username')), String(form.get('password')));
          setOpen(false);
          setError(null);
        } catch (err) {
          setError((err as Error).message);
        }
      }}
    >
      <input name="username" placeholder="user" aria-label="user" autocomplete="username" required />
      <input
        name="password"
        type="password"
        placeholder="password"
        aria-label="password"
        autocomplete="current-password"
        required
      />
      <button type="submit">Log in</button>
      {error ? (
        <span class="error" role="alert">
          {error}
        </span>
      ) : null}
    </form>
  );
}
