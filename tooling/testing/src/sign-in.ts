/** Signs in through the API's `login` mutation; the session cookie (`name=value`) to send. */
export async function signIn(apiUrl: string, email: string, password: string): Promise<string> {
  const response = await fetch(apiUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { id } }',
      variables: { e: email, p: password },
    }),
  });
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  if (!cookie) throw new Error(`login of ${email} set no cookie: ${await response.text()}`);
  return cookie;
}
