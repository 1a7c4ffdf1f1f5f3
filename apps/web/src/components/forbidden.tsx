export function Forbidden({ what }: { what: string }) {
  return (
    <section aria-labelledby="forbidden">
      <h1 id="forbidden">Not allowed</h1>
      <p data-testid="forbidden">
        Your role in this project does not include {what}. Ask a project admin if you need it.
      </p>
    </section>
  );
}
