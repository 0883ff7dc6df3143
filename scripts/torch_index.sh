# Sourced by scripts/install.sh and scripts/wheelhouse.sh (needs PY, TORCH_INDEX).
# TORCH_INDEX: auto (CPU-only index on Linux, when it answers), none (default index), or a URL.
CPU_INDEX=https://download.pytorch.org/whl/cpu
# Prints the pip options for PyTorch's index (nothing when the default index is to be used).
torch_index_args() {
  local url=$TORCH_INDEX
  case "$url" in
    none|"") return 0 ;;
    auto) [ "$(uname -s)" = Linux ] || return 0; url=$CPU_INDEX ;;
  esac
  # A few seconds at most, whatever the network does (DNS included): `timeout` kills the probe.
  if timeout 6 "$PY" - "$url" >/dev/null 2>&1 <<'EOF'
import sys, urllib.request
urllib.request.urlopen(sys.argv[1].rstrip("/") + "/torch/", timeout=4).read(1)
EOF
  then
    echo "install: torch from $url" >&2
    echo "--extra-index-url $url"
  else
    echo "install: $url is not reachable (probe limited to 6 s); using the default index at once (TORCH_INDEX=none skips the probe)" >&2
  fi
}
