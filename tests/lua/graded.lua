-- tests/lua/graded.lua — net:connect_graded from a script, against the cells' own states: a cfc
-- and an ltc population, each driven by a signal, project onto integrators through weights given
-- as rows (the identity, 3 steps later), as one number (every weight) and as a CSV file. Run
-- step by step, each integrator's sum must be the sum of what its weights make of the states the
-- cell reports, delay steps earlier. Run by tests/test_cli.sh; exits with an error (status 2) on
-- the first wrong answer, else prints one line per model.
local function check(cond, what) if not cond then error("check failed: " .. what, 2) end end
local dt, n, steps = 0.5, 3, 60
local W = {{0.5, -1, 2}, {1.5, 0.25, -0.75}}           -- 2 targets x 3 sources
local function matrix_file()                            -- W as a CSV file, removed once read
  local file = os.tmpname()
  local f = assert(io.open(file, "w"))
  f:write("0.5,-1,2\n1.5,0.25,-0.75\n")
  f:close()
  return file
end

for _, cell in ipairs{{model = "cfc", var = "h"}, {model = "ltc", var = "v"}} do
  local net = nsim.network{dt = dt}
  local C = net:population(cell.model, n, {inputs = 1, time_scale = 2}, nil, {name = "C", seed = 3})
  net:signal(C, {times = {0, 5, 12}, values = {0.5, -1, 0.8}})
  local S = net:population("integrator", n, nil, nil, "S")      -- identity, 3 steps later
  local A = net:population("integrator", 2, nil, nil, "A")      -- every weight 0.25, next step
  local F = net:population("integrator", 2, nil, nil, "F")      -- W from the file, 2 steps later
  net:connect_graded(C, S, {weights = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, delay = 3 * dt})
  net:connect_graded(C, A, {weights = 0.25})
  local file = matrix_file()
  net:connect_graded(C, F, {file = file, delay = 1.0})
  os.remove(file)
  local h, want_s, want_a, want_f = {}, {0, 0, 0}, {0, 0}, {0, 0}
  local worst_s, worst, moved = 0, 0, 0
  for k = 1, steps do
    net:run(dt)
    h[k] = {}
    for j = 1, n do
      h[k][j] = C:state(cell.var, j - 1)
      moved = moved + math.abs(h[k][j])
    end
    for i = 1, n do
      if k > 3 then want_s[i] = want_s[i] + h[k - 3][i] end
      worst_s = math.max(worst_s, math.abs(S:state("sum", i - 1) - want_s[i]))
    end
    for i = 1, 2 do
      for j = 1, n do
        if k > 1 then want_a[i] = want_a[i] + 0.25 * h[k - 1][j] end
        if k > 2 then want_f[i] = want_f[i] + W[i][j] * h[k - 2][j] end
      end
      worst = math.max(worst, math.abs(A:state("sum", i - 1) - want_a[i]), math.abs(F:state("sum", i - 1) - want_f[i]))
    end
  end
  check(moved > 0, cell.model .. ": the cell's state moved")
  check(worst_s == 0, string.format("%s: identity, 3 steps later: off by %g", cell.model, worst_s))
  check(worst < 1e-12, string.format("%s: a number and a file of weights: off by %g", cell.model, worst))
  print(string.format("graded %s: identity exact, weights within %.1g", cell.model, worst))
end
