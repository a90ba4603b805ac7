# The pinned tools of the typed clients, installed into target/clients-tools/ and reused while
# their pins are unchanged. Sourced by clients/check and clients/test (from the repository root).
#   target/clients-tools/python       openapi-python-client + ruff (clients/python/generator-requirements.txt)
#   target/clients-tools/python-test  the Python client itself + pytest (clients/python/test-requirements.txt)
#   target/clients-tools/typescript   npm ci of clients/typescript's package.json + package-lock.json:
#                                     openapi-typescript, openapi-fetch, typescript, @types/node

TOOLS=target/clients-tools

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# A venv holding exactly the packages of a requirements file. The copy of the file kept inside it
# says what it holds; --clear because a venv moved with its checkout has stale paths.
ensure_venv() {
    local venv=$1 requirements=$2
    if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$venv/requirements.txt"; then return; fi
    say "installing $requirements (PyPI) into $venv"
    python3 -m venv --clear "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
}

ensure_python_generator() {
    ensure_venv "$TOOLS/python" clients/python/generator-requirements.txt
}

# node_modules from the lockfile, outside the source tree; clients/typescript/node_modules links
# to it so tsc and node resolve the packages from the sources.
ensure_typescript_tools() {
    local prefix=$TOOLS/typescript
    if ! cmp -s clients/typescript/package-lock.json "$prefix/package-lock.json" ||
        ! cmp -s clients/typescript/package.json "$prefix/package.json" || [ ! -d "$prefix/node_modules" ]; then
        say "installing clients/typescript/package-lock.json (npm) into $prefix"
        rm -rf "$prefix" && mkdir -p "$prefix"
        cp clients/typescript/package.json clients/typescript/package-lock.json "$prefix/"
        npm ci --prefix "$prefix" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
    fi
    local link=clients/typescript/node_modules
    if [ -d "$link" ] && [ ! -L "$link" ]; then
        say "using $link as it is (made by npm install there, not a link to $prefix)"
    elif [ "$(readlink "$link" 2>/dev/null)" != "../../$prefix/node_modules" ]; then
        rm -f "$link" && ln -s "../../$prefix/node_modules" "$link"
    fi
}
