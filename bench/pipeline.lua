-- wrk script: 16 GET / requests sent in one write per connection.
-- wrk counts the requests in the string and waits for all 16 responses
-- before it writes the next batch, so requests/s counts responses.
-- Usage: wrk -t1 -c256 -d10s -s bench/pipeline.lua http://127.0.0.1:8080/
local depth = 16

init = function(args)
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil, "/")
  end
  req = table.concat(r)
end

request = function()
  return req
end
