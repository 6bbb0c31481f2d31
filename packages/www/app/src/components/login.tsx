// The top bar's login: a small form (and "Sign in with …" when the master offers OIDC),
// or who is logged in and a way out.
import { useState } from 'preact/hooks';
import { login, logout, type Me, oidcLoginUrl, useMe } from '../auth';

/** A full page load: the master sends the browser to the provider and back. */
function OidcLogin({ me }: { me: Me }) {
  if (!me.oidc) return null;
  return (
    <a
      class="oidc-login"
      href={oidcLoginUrl()}
      // The page may have changed since this rendered: return to the one shown now.
      onClick={(e) => {
        e.currentTarget.href = oidcLoginUrl();
      }}
    >
      Sign in with {me.oidc.name}
    </a>
  );
}

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
      <span class="login">
        <OidcLogin me={me} />{' '}
        <button type="button" onClick={() => setOpen(true)}>
          Log in
        </button>
      </span>
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
      <button type="submit">Log in</button> <OidcLogin me={me} />
      {error ? (
        <span class="error" role="alert">
          {error}
        </span>
      ) : null}
    </form>
  );
}
