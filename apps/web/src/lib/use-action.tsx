'use client';

import { useState } from 'react';

/**
 * Runs a change from a button or form: reloads the page's data when it worked (unless told
 * not to), shows the API's reason when it did not.
 */
export function useAction() {
  const [state, setState] = useState<{ busy: boolean; message: string | null; error: boolean }>({
    busy: false,
    message: null,
    error: false,
  });
  const run = async (what: () => Promise<unknown>, done = 'Done.', reload = true) => {
    setState({ busy: true, message: null, error: false });
    try {
      await what();
      setState({ busy: false, message: done, error: false });
      if (reload) window.location.reload();
    } catch (e) {
      setState({ busy: false, message: (e as Error).message, error: true });
    }
  };
  const note = state.message && (
    <p role={state.error ? 'alert' : 'status'} className={state.error ? 'error' : 'status'}>
      {state.message}
    </p>
  );
  return { busy: state.busy, run, note };
}
