import { startServer } from "./server";

export default async function globalSetup() {
  const server = await startServer();
  process.env.RTCA_BASE_URL = server.url;
  return async () => {
    await server.stop();
  };
}
