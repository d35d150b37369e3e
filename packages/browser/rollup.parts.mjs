// Filled in with the SDK builds.
export const browserBuilds = () => [];
