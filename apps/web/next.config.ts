import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Workspace packages ship TypeScript sources.
  transpilePackages: ['@beanstalk/config'],
  poweredByHeader: false,
};

export default nextConfig;
