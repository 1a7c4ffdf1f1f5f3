import Link from 'next/link';
import type { ReactNode } from 'react';
import { SignOut } from '../src/components/sign-out.tsx';
import { graphql } from '../src/generated/gql.ts';
import { request } from '../src/lib/graphql.ts';
import './globals.css';

export const metadata = {
  title: 'Beanstalk',
  description: 'Active-learning platform for visual quality control',
};

const Viewer = graphql(`
  query LayoutViewer {
    viewer {
      user {
        name
        email
      }
    }
  }
`);

export default async function RootLayout({ children }: { children: ReactNode }) {
  const viewer = await request(Viewer).catch(() => null);
  const user = viewer?.viewer.user;
  return (
    <html lang="en">
      <body>
        <header className="top">
          <Link href="/" className="brand">
            Beanstalk
          </Link>
          <span className="muted">visual quality control that learns from few labels</span>
          {user && (
            <span className="who">
              {user.name} <SignOut />
            </span>
          )}
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
