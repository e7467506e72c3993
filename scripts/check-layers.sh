#!/usr/bin/env bash
# Fails when a module imports from a layer above its own (DESIGN.md "Layers"):
#
#   app, commands, cli, main      6   the loop, wiring, headless commands
#   ui                            5   pure drawing over &State
#   state                         4   the one owner; apply(msg) is the only writer
#   ops                           3   actions: plans and their executions
#   sources                       2   one folder per backend
#   domain                        1   pure rules
#   config, model                 0   plain data and settings
#
# A module may import from its own layer and those below it, and `ui` (pure drawing)
# never from the I/O layers `sources` and `ops`: it reads `state`, `model`, `domain` and
# `config` only. `use crate::x` and
# `crate::x::...` paths are checked, grouped imports (`use crate::{a, b}`) too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

declare -A RANK=(
    [config]=0 [model]=0 [domain]=1 [sources]=2 [ops]=3 [state]=4 [ui]=5
    [app]=6 [commands]=6 [cli]=6 [main]=6
)

layer_of() {
    local rel=${1#src/}
    local top=${rel%%/*}
    top=${top%.rs}
    echo "$top"
}

status=0
while IFS= read -r file; do
    from=$(layer_of "$file")
    [[ -n ${RANK[$from]+x} ]] || { [[ $from == lib ]] && continue; echo "check-layers: $file: module $from has no layer; add it to scripts/check-layers.sh" >&2; status=1; continue; }
    # Every crate::NAME reference, and the names inside `use crate::{...}` groups.
    refs=$( { grep -noE 'crate::[a-z_]+' "$file" | sed -E 's/crate:://' || true
              grep -nozE 'use crate::\{[^}]*\}' "$file" | tr '\0' '\n' | grep -oE '(^|[{,[:space:]])[a-z_]+(::|[,}])' | grep -oE '[a-z_]+' | sed 's/^/0:/' || true; } )
    while IFS=: read -r line target; do
        [[ -z $target ]] && continue
        [[ -n ${RANK[$target]+x} ]] || continue
        if [[ $from == ui && ( $target == sources || $target == ops ) ]]; then
            echo "check-layers: $file:$line: ui draws &State and never reaches the I/O layer crate::$target: take the type from crate::model" >&2
            status=1
        elif (( RANK[$target] > RANK[$from] )); then
            echo "check-layers: $file:$line: $from (layer ${RANK[$from]}) imports crate::$target (layer ${RANK[$target]}): move the code down or the import up" >&2
            status=1
        fi
    done <<< "$refs"
done < <(find src -name '*.rs' | sort)

if ((status == 0)); then
    echo "check-layers: every import goes downwards" >&2
fi
exit "$status"
