#!/bin/sh
# Fake pods for scripts/run-local.sh: three containers appending log lines, once a
# second, as the kubelet lays them out: DIR/<namespace>_<pod>_<uid>/<container>/0.log,
# each line in the CRI format "<RFC 3339 time> <stdout|stderr> F <message>".
# A shell loop rather than a mode of the agent: the shipped binary carries no demo code,
# and the agent reads these files through the same discovery, tailing and decoding it
# uses on a node. The messages mix JSON, logfmt and plain text; about one line in nine
# of demo/checkout is an error, so the default LogQL rule (more than 5 % error lines
# for 5 minutes) fires after 5 minutes. Runs until killed.
# Usage: scripts/demo-pods.sh DIR
set -eu
dir=${1:?usage: $0 DIR}

log_file() { # namespace pod uid container
    mkdir -p "$dir/$1_$2_$3/$4"
    echo "$dir/$1_$2_$3/$4/0.log"
}
checkout=$(log_file demo checkout-5d8f7c9b6-x2x9q 5e0c6a3b-0000-4000-8000-000000000001 app)
web=$(log_file demo web-7d9f8b6c5d-abcde 5e0c6a3b-0000-4000-8000-000000000002 nginx)
report=$(log_file batch report-28123456-k7m2p 5e0c6a3b-0000-4000-8000-000000000003 worker)

line() { # file stream message
    printf '%s %s F %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$2" "$3" >>"$1"
}

i=0
while :; do
    i=$((i + 1))
    line "$checkout" stdout "{\"level\":\"info\",\"msg\":\"order paid\",\"order\":$i}"
    if [ $((i % 8)) -eq 0 ]; then
        line "$checkout" stderr "{\"level\":\"error\",\"msg\":\"payment declined\",\"order\":$i}"
    fi
    line "$web" stdout "10.0.0.$((i % 250 + 1)) - - \"GET /cart/$i HTTP/1.1\" 200 $((i * 37 % 4000))"
    if [ $((i % 5)) -eq 0 ]; then
        line "$web" stderr "level=warn msg=\"slow upstream\" duration_ms=$((i * 53 % 900))"
    fi
    if [ $((i % 10)) -eq 0 ]; then
        line "$report" stdout "report batch $((i / 10)) done: $((i * 13)) rows"
    fi
    sleep 1
done
