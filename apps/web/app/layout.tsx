import type { ReactNode } from 'react';
import './globals.css';

export const metadata = {
  title: 'Beanstalk',
  description: 'Active-learning platform for visual quality control',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="top">
          <strong>Beanstalk</strong>
          <span>visual quality control that learns from few labels</span>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
