'use client';

import { graphql } from '../generated/gql.ts';
import { call } from '../lib/client.ts';

const Logout = graphql(`
  mutation Logout {
    logout
  }
`);

export function SignOut() {
  return (
    <button
      type="button"
      className="link"
      onClick={async () => {
        await call(Logout).catch(() => undefined);
        window.location.assign('/login');
      }}
    >
      Sign out
    </button>
  );
}
