'use client';

import { useRouter } from 'next/navigation';
import { useEffect } from 'react';

/** Shows a server-rendered page anew every few seconds while something on it is running. */
export function AutoRefresh({ seconds = 3 }: { seconds?: number }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => router.refresh(), seconds * 1000);
    return () => clearInterval(timer);
  }, [router, seconds]);
  return null;
}
