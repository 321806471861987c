# Run inside `unshare --net --pid --fork --mount-proc`: a loopback-only network, a 2-node Ray
# cluster on 127.0.0.1 (the head labelled zone=a, the second node zone=b), the stages of the Ray
# tests ($SW_RAY_STAGES: a file of command lines, each run with sh), then stop. Every Ray process ends with the namespace.
set -u
ip link set lo up
export RAY_USAGE_STATS_ENABLED=0
port=$SW_RAY_PORT
common="--node-ip-address 127.0.0.1 --num-cpus 2 --object-store-memory 100000000 --disable-usage-stats"
"$SW_RAY_BIN/ray" start --head --port "$port" --include-dashboard false --temp-dir "$SW_RAY_TMP" $common \
  --labels zone=a > "$SW_RAY_OUT/head.log" 2>&1 || { echo "head did not start"; exit 3; }
"$SW_RAY_BIN/ray" start --address "127.0.0.1:$port" $common --labels zone=b > "$SW_RAY_OUT/node2.log" 2>&1 ||
  { echo "second node did not start"; exit 3; }
export RAY_ADDRESS="127.0.0.1:$port"
n=0
while IFS= read -r line; do
  n=$((n + 1))
  sh -c "$line" > "$SW_RAY_OUT/stage-$n.out" 2>&1
  echo "$?" > "$SW_RAY_OUT/stage-$n.rc"
done < "$SW_RAY_STAGES"
"$SW_RAY_BIN/ray" stop --force > /dev/null 2>&1
exit 0
