# The pinned tools of the typed clients, installed into target/clients-tools/ and reused while
# their pins are unchanged. Sourced by clients/check and clients/test (from the repository root).
#   target/clients-tools/python       openapi-python-client + ruff (clients/python/generator-requirements.txt)
#   target/clients-tools/python-test  the Python client itself + pytest (clients/python/test-requirements.txt)
#   target/clients-tools/typescript   npm ci of clients/typescript's package.json + package-lock.json:
#                                     openapi-typescript, openapi-fetch, typescript, @types/node
#                                     (clients/test compiles a copy of the sources there)

TOOLS=target/clients-tools

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# A venv holding exactly the packages of a requirements file (further arguments go to pip install,
# e.g. --no-deps). The copy of the file kept inside it says what it holds; --clear because a venv
# moved with its checkout has stale paths. Also used by ./dev for target/retrieval-venv.
ensure_venv() {
    local venv=$1 requirements=$2
    shift 2
    if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$venv/requirements.txt"; then return; fi
    say "installing $requirements (PyPI) into $venv"
    python3 -m venv --clear "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$@" -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
}

ensure_python_generator() {
    ensure_venv "$TOOLS/python" clients/python/generator-requirements.txt
}

# node_modules from clients/typescript's lockfile, in a prefix of its own: nothing is installed
# into the source tree (where `npm ci` stays the user's own).
ensure_typescript_tools() {
    local prefix=$TOOLS/typescript
    if cmp -s clients/typescript/package-lock.json "$prefix/package-lock.json" &&
        cmp -s clients/typescript/package.json "$prefix/package.json" &&
        [ -x "$prefix/node_modules/.bin/openapi-typescript" ] && [ -x "$prefix/node_modules/.bin/tsc" ]; then
        return
    fi
    say "installing clients/typescript/package-lock.json (npm) into $prefix"
    rm -rf "$prefix" && mkdir -p "$prefix"
    cp clients/typescript/package.json clients/typescript/package-lock.json "$prefix/"
    npm ci --prefix "$prefix" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
}
