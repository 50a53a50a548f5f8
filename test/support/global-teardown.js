// Reports sockets still open when the run ends. Jest runs the files in this process on a 2-core
// machine, so a database pool left open keeps the run from exiting; this line says which server
// the leak talks to. (One such leak: a cron tick's enqueue still in flight at app shutdown made
// Prisma reconnect after the test had disconnected it; shutdown now waits for it.)
const PORTS = { 5432: 'PostgreSQL', 3306: 'MariaDB', 6379: 'Redis', 5672: 'RabbitMQ', 4222: 'NATS', 1883: 'MQTT' };

module.exports = async function globalTeardown() {
  // Give sockets that are closing a moment to finish.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const counts = new Map();
  for (const handle of process._getActiveHandles()) {
    const port = handle && handle.remotePort;
    if (!port) continue;
    const name = `${PORTS[port] ?? 'port'} ${port}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  if (counts.size === 0) return;
  const list = [...counts].map(([name, n]) => `${name} ×${n}`).join(', ');
  console.warn(`\n[doctor-job] sockets still open after the test run (a client or pool that was not closed): ${list}\n`);
};
