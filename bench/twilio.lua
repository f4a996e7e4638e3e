-- wrk script: POST pre-signed Twilio SMS webhooks, each once, and note what was acknowledged.
--
-- BENCH_REQUESTS=<file> BENCH_ANSWERS=<file> BENCH_THREADS=<n> wrk -t<n> -s bench/twilio.lua <url>
-- (wrk gives its script's arguments to the threads only, and `done` runs outside them.)
-- The requests file holds one delivery per line: "<X-Twilio-Signature>\t<form body>". Thread i
-- of n sends lines i, i+n, i+2n, ... so no delivery goes twice; past its last line a thread
-- starts again from its first (`wrapped` counts those: the bare endpoint does not mind, the
-- gateway's run must end with none). In the answers file, the tracking ID of every 2xx
-- answer (from the TwiML) lets the bench check that each one is in the store.

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("id", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

function init(args)
   local path, n = os.getenv("BENCH_REQUESTS"), tonumber(os.getenv("BENCH_THREADS"))
   lines = {}
   local i = 0
   for line in io.lines(path) do
      if i % n == id then
         local signature, body = line:match("^([^\t]+)\t(.*)$")
         table.insert(lines, {signature, body})
      end
      i = i + 1
   end
   next_line, wrapped, sent, answered, ok, ids = 1, 0, 0, 0, 0, {}
end

function request()
   if next_line > #lines then
      next_line, wrapped = 1, wrapped + 1
   end
   local line = lines[next_line]
   next_line, sent = next_line + 1, sent + 1
   return wrk.format("POST", nil, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = line[1],
   }, line[2])
end

function response(status, headers, body)
   answered = answered + 1
   if status >= 200 and status < 300 then
      ok = ok + 1
      local id = body:match("no%. ([2-9A-Z]+)")
      if id then
         table.insert(ids, id)
      end
   end
end

function done(summary, latency, requests)
   local out = io.open(os.getenv("BENCH_ANSWERS"), "w")
   local sent_total, answered_total, ok_total, wrapped_total = 0, 0, 0, 0
   for _, thread in ipairs(threads) do
      sent_total = sent_total + thread:get("sent")
      answered_total = answered_total + thread:get("answered")
      ok_total = ok_total + thread:get("ok")
      wrapped_total = wrapped_total + thread:get("wrapped")
      for _, id in ipairs(thread:get("ids")) do
         out:write(id, "\n")
      end
   end
   out:close()
   io.write(string.format(
      'WRK-JSON {"requests": %d, "duration_us": %d, "non_2xx_3xx": %d, "connect_errors": %d, '
         .. '"read_errors": %d, "write_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d, '
         .. '"sent": %d, "answered": %d, "ok": %d, "wrapped": %d}\n',
      summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
      summary.errors.read, summary.errors.write, summary.errors.timeout,
      latency:percentile(50), latency:percentile(99),
      sent_total, answered_total, ok_total, wrapped_total))
end
