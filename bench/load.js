'use strict'
// The Node half of bench/load.py: one time-bounded autocannon run, its figures as one JSON
// object on stdout. Run as `node bench/load.js SPEC.json`; bench/load.py writes the spec:
//   autocannon   path of the autocannon package (tests/e2e/node_modules/autocannon, pinned
//                by tests/e2e/package-lock.json)
//   url, method, headers
//   bodies       request bodies, one per connection in turn (login: one account each)
//   connections, seconds, timeout_seconds, grace_seconds
//   collect_ids  report the `post.id` of every 201 answer (POST /posts)
//
// autocannon drives the connections and counts statuses, errors and timeouts. Three things
// are done here rather than by its command line:
// - the end: when the time is up each connection finishes the request it has in flight and
//   closes, so every request sent is answered and counted. autocannon's own stop closes
//   the sockets with requests in flight, whose posts may or may not have been stored: the
//   201s counted could then not be matched against the posts stored;
// - latency: each answer's time is kept as autocannon measures it (hrtime, fractions of a
//   millisecond) and the percentiles are taken here; its histogram records whole
//   milliseconds, too coarse for reads on loopback;
// - per-connection bodies (setupClient), which its command line cannot give.
const fs = require('fs')

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
const autocannon = require(spec.autocannon)

// Nearest-rank percentile of a sorted, non-empty array (as bench/bench.py computes it).
function percentile (sorted, pct) {
  const rank = Math.max(1, Math.ceil((pct / 100) * sorted.length))
  return sorted[rank - 1]
}

const clients = []
const latencies = []
const ids = []
const bodyErrors = []
let connection = 0
let inWindow = 0
let windowOver = false

const request = {}
if (spec.collect_ids) {
  request.onResponse = (status, body) => {
    if (status !== 201) return
    try {
      ids.push(JSON.parse(body).post.id)
    } catch (err) {
      bodyErrors.push(`a 201 without a post id: ${String(body).slice(0, 200)}`)
    }
  }
}

const started = process.hrtime.bigint()
const instance = autocannon({
  url: spec.url,
  method: spec.method,
  headers: spec.headers,
  body: spec.bodies.length ? spec.bodies[0] : undefined,
  requests: [request],
  connections: spec.connections,
  // A backstop only: the run ends when every connection has drained (below).
  duration: spec.seconds + spec.grace_seconds,
  timeout: spec.timeout_seconds,
  // How often autocannon looks whether every connection has finished.
  sampleInt: 100,
  setupClient (client) {
    if (spec.bodies.length > 1) client.setBody(spec.bodies[connection % spec.bodies.length])
    connection++
    clients.push(client)
  }
}, (err, result) => {
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  if (err) {
    console.error(`autocannon: ${err.stack || err}`)
    process.exit(2)
  }
  latencies.sort((a, b) => a - b)
  const out = {
    connections: spec.connections,
    window_seconds: spec.seconds,
    elapsed_seconds: elapsed,
    answered_in_window: inWindow,
    answered: latencies.length,
    sent: result.requests.sent,
    status_counts: Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count])),
    non_2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    drained: windowOver && clients.every((c) => c.destroyed),
    p50_ms: latencies.length ? percentile(latencies, 50) : null,
    p99_ms: latencies.length ? percentile(latencies, 99) : null,
    max_ms: latencies.length ? latencies[latencies.length - 1] : null,
    body_errors: bodyErrors,
    ids: spec.collect_ids ? ids : undefined
  }
  process.stdout.write(JSON.stringify(out) + '\n')
})

instance.on('response', (client, statusCode, resBytes, responseTime) => {
  latencies.push(responseTime)
  if (!windowOver) inWindow++
})

setTimeout(() => {
  windowOver = true
  // autocannon's Client closes itself before its next request once it has made
  // `responseMax`: each connection answers what it has in flight, then stops.
  for (const client of clients) client.responseMax = Math.max(1, client.reqsMade)
}, spec.seconds * 1000)
