// Pages watching live, without a page: opens one WebSocket connection to the live API per watch
// message given, sends it, and prints what each connection gets as JSON lines:
// {"connection": i, "message": {...}} and {"connection": i, "closed": true}. Runs until its
// standard input closes. Node 20 needs --experimental-websocket.
//
//   node --experimental-websocket tests/live.mjs <ws url> '[{"action":"watch",...}, ...]'

const [url, watches] = process.argv.slice(2);
const report = (line) => process.stdout.write(JSON.stringify(line) + "\n");
for (const [connection, watch] of JSON.parse(watches).entries()) {
  const socket = new WebSocket(url);
  socket.onopen = () => {
    socket.send(JSON.stringify(watch));
    report({ connection, opened: true });
  };
  socket.onmessage = (event) => report({ connection, message: JSON.parse(event.data) });
  socket.onclose = () => report({ connection, closed: true });
}
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
