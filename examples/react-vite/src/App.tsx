import { SignupForm } from './SignupForm';

export function App() {
  return (
    <main style={{ maxWidth: '40rem', margin: '3rem auto', padding: '0 1rem', fontFamily: 'system-ui, sans-serif' }}>
      <h1>Join the waiting list</h1>
      <p>Leave your email and we will tell you when we launch.</p>
      <SignupForm />
    </main>
  );
}
