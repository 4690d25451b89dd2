-- wrk script for http.sh: HTTP/1.1 pipelining. Every write carries `depth`
-- GET /plaintext requests (16 unless given: wrk ... -s pipeline.lua -- 8);
-- wrk counts each response, so Requests/sec stays comparable with the
-- unpipelined run.
local depth = 16
local batch

function init(args)
  if args[1] ~= nil then
    depth = tonumber(args[1])
  end
  local reqs = {}
  for i = 1, depth do
    reqs[i] = wrk.format("GET", "/plaintext")
  end
  batch = table.concat(reqs)
end

function request()
  return batch
end
