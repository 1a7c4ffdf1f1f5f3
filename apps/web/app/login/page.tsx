import { LoginForm } from '../../src/components/login-form.tsx';

export default function LoginPage() {
  return (
    <section className="login" aria-labelledby="login-title">
      <h1 id="login-title">Sign in</h1>
      <LoginForm />
    </section>
  );
}
