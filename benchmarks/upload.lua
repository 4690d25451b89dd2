-- wrk script for bridge.sh: POST /upload with a 1 MiB body (MiB set by the
-- first argument: wrk ... -s upload.lua -- 1). wrk counts each response.
function init(args)
  local mib = tonumber(args[1] or "1")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/octet-stream"
  wrk.body = string.rep("x", mib * 1048576)
end
