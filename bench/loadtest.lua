-- The training-day scenario for wrk (bench/loadtest.py writes the data file and reads the result file).
--
--   wrk -t N -c N -d 120s -s bench/loadtest.lua http://127.0.0.1:PORT -- data.lua result.json
--
-- One connection per wrk thread, so a thread's request() and response() alternate and the thread can time each
-- request itself and remember what it sent (wrk's own histogram does not tell kinds of request apart). Each
-- thread plays many people in turn: it picks a kind of request by weight and a person at random, waits an
-- exponential think time (none in the capacity run), and follows every accepted quiz submission to its result
-- page as a browser would. Every quiz submission carries a new submission id; the attempt id the server names
-- in its redirect is recorded with it, so the database can be checked for lost or doubled writes afterwards.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } coaching_lt_timespec;
int clock_gettime(int clk_id, coaching_lt_timespec *tp);
]]
local clock = ffi.new("coaching_lt_timespec")
local function now_us()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

-- main state: the threads, numbered
local threads, numbered = {}, 0
function setup(thread)
  numbered = numbered + 1
  thread:set("tid", numbered)
  table.insert(threads, thread)
end

-- thread state: globals, so that done() can read them with thread:get (which copies flat tables only)
tid = 0
kinds = {}  -- the kind names; their latencies (microseconds) are in the global lists "lat_" .. kind
errs = {}   -- kind -> count of unexpected answers
acks = {}   -- "submission id=attempt id" of every accepted quiz submission
bad = {}    -- the first unexpected answers, for the report
out_path = nil
sent = 0

local D, choices, total_weight
local last_took_ms = 0
local pending_kind, pending_user, pending_sid, sent_at, follow

function init(args)
  D = dofile(args[1])
  out_path = args[2]
  math.randomseed(D.seed + tid * 7919)
  choices, total_weight = {}, 0
  for _, kind in ipairs(D.kinds) do
    total_weight = total_weight + kind.weight
    table.insert(choices, { kind.name, total_weight })
  end
  for _, name in ipairs(D.all_kinds) do
    table.insert(kinds, name)
    _G["lat_" .. name], errs[name] = {}, 0
  end
end

local function pick(list)
  return list[math.random(#list)]
end

local function pick_kind()
  local r = math.random() * total_weight
  for _, choice in ipairs(choices) do
    if r < choice[2] then return choice[1] end
  end
  return choices[#choices][1]
end

local function headers_of(person, form)
  -- wrk.format() uses these headers instead of wrk.headers, not in addition to them
  local h = { ["Cookie"] = person.c, ["X-Forwarded-For"] = person.ip, ["User-Agent"] = D.agent, ["Host"] = "localhost" }
  if form then h["Content-Type"] = "application/x-www-form-urlencoded" end
  return h
end

function request()
  sent = sent + 1
  if sent > D.cap then wrk.thread:stop() end
  local kind, method, path, person, body = nil, "GET", nil, nil, nil
  pending_sid = nil
  if follow then
    kind, path, person = "result", follow[1], follow[2]
    follow = nil
  else
    kind = pick_kind()
    if kind == "lesson" then
      person, path = pick(D.users), pick(D.lessons)
    elseif kind == "quiz" then
      person = pick(D.users)
      local quiz = pick(D.quizzes)
      local sid = D.run .. "-" .. tid .. "-" .. sent
      local choice = (math.random() < D.pass_share) and quiz.right or quiz.wrong
      method, path, pending_sid = "POST", quiz.path, sid
      -- The text answer is always new: identical answers right after the latest attempt count as a replay.
      body = "csrf_token=" .. person.t .. "&quiz_version=" .. quiz.v .. "&submission_id=" .. sid .. "&" .. choice ..
          "&" .. quiz.text .. "=guess+" .. sid
    elseif kind == "dashboard" then
      person, path = pick(D.users), "/dashboard"
    elseif kind == "course" then
      person, path = pick(D.users), pick(D.courses)
    elseif kind == "certificate" then
      person = D.users[pick(D.holders)]
      path = "/certificates/" .. person.cert .. ".pdf"
    elseif kind == "signin" then
      person = pick(D.anon)
      method, path = "POST", "/auth/login"
      body = "csrf_token=" .. person.t .. "&email=" .. person.email .. "&password=" .. D.password .. "&next="
    else -- report
      person, path = pick(D.managers), pick(D.reports)
    end
  end
  pending_kind, pending_user = kind, person
  sent_at = now_us()
  return wrk.format(method, path, headers_of(person, body ~= nil), body)
end

local function location_path(headers)
  local loc = headers["Location"] or headers["location"]
  if not loc then return nil end
  return (string.gsub(loc, "^https?://[^/]+", ""))
end

function response(status, headers, body)
  local took = now_us() - sent_at
  last_took_ms = took / 1000
  local kind = pending_kind
  table.insert(_G["lat_" .. kind], math.floor(took))
  local ok
  if kind == "quiz" then
    local path = location_path(headers)
    local id = path and string.match(path, "/attempts/(%d+)$")
    ok = status == 303 and id ~= nil
    if ok then
      table.insert(acks, pending_sid .. "=" .. id)
      follow = { path, pending_user }
    end
  elseif kind == "signin" then
    local path = location_path(headers)
    ok = status == 302 and path ~= nil and string.find(path, "/auth/", 1, true) == nil
  elseif kind == "certificate" then
    local ctype = headers["Content-Type"] or headers["content-type"] or ""
    ok = status == 200 and string.find(ctype, "application/pdf", 1, true) ~= nil
  else
    ok = status == 200
  end
  if not ok then
    errs[kind] = errs[kind] + 1
    if #bad < 10 then
      local said = string.match(body or "", 'class="flash flash%-[^"]*">([^<]*)')
          or string.match(body or "", "<title>([^<]*)") or ""
      table.insert(bad, kind .. " " .. status .. " " .. (location_path(headers) or "") .. " " .. said)
    end
  end
end

function delay()
  if follow or D.think_ms <= 0 then return 0 end
  -- Exponential think time, less the time the last answer took (so the rate holds while the server keeps up),
  -- capped below gunicorn's keep-alive (5 s), which would otherwise close the idle connection under wrk.
  local think = -D.think_ms * math.log(1 - math.random()) - last_took_ms
  return math.max(0, math.min(D.think_cap_ms, math.floor(think)))
end

local function json_string(s)
  -- ASCII only: a byte above 127 (a snippet of a page may end inside a UTF-8 sequence) is written as \u00XX
  return '"' .. string.gsub(s, '[%c"\\\128-\255]', function(c) return string.format("\\u%04x", string.byte(c)) end)
      .. '"'
end

function done(summary, latency, requests)
  local merged, parts = {}, {}
  local all_errs, all_acks, all_bad = {}, {}, {}
  for _, thread in ipairs(threads) do
    local te = thread:get("errs")
    for _, name in ipairs(thread:get("kinds")) do
      merged[name] = merged[name] or {}
      for _, v in ipairs(thread:get("lat_" .. name)) do table.insert(merged[name], v) end
      all_errs[name] = (all_errs[name] or 0) + (te[name] or 0)
    end
    for _, a in ipairs(thread:get("acks")) do table.insert(all_acks, json_string(a)) end
    for _, b in ipairs(thread:get("bad")) do
      if #all_bad < 10 then table.insert(all_bad, json_string(b)) end
    end
  end
  for name, list in pairs(merged) do
    table.insert(parts, string.format('%s: {"latency_us": [%s], "errors": %d}', json_string(name),
      table.concat(list, ","), all_errs[name]))
  end
  local e = summary.errors
  local f = io.open(threads[1]:get("out_path"), "w")
  f:write(string.format('{"duration_us": %d, "requests": %d, "status_errors": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeouts": %d, "kinds": {%s}, "acks": [%s], "bad": [%s]}',
    summary.duration, summary.requests, e.status, e.connect, e.read, e.write, e.timeout,
    table.concat(parts, ", "), table.concat(all_acks, ","), table.concat(all_bad, ",")))
  f:close()
end
