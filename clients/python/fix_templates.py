"""The one fix spingraph needs in openapi-python-client 0.29.1's templates, applied to a copy.

In `endpoint_macros.py.jinja`'s `arguments` macro, an endpoint whose required request body has
several content types (our createToken and createSession: JSON or the OAuth2 form) gets
`body: ... | Unset = UNSET` without an import of `Unset`, so its module fails to import
(NameError): the `set` inside the loop does not outlive it (upstream issue 1451, PR 1478). A Jinja
namespace carries the value out. `clients/check` runs this on the installed generator's template
and passes the result as `--custom-template-path`; the generator's other templates are used as
they are. Drop it once a release has the fix: this script then fails, as a replaced line is gone.

    python fix_templates.py OUT_DIR
"""

import pathlib
import sys

import openapi_python_client

NAME = "endpoint_macros.py.jinja"
# (what the template says, what it says here): each must occur exactly once.
FIXES = [
    (
        (
            "body:\n    {%- for body in endpoint.bodies -%}"
            "{% set body_required = body_required and body.prop.required %}"
        ),
        (
            "{% set required = namespace(all=true) %}\nbody:\n    {%- for body in endpoint.bodies -%}"
            "{% set required.all = required.all and body.prop.required %}"
        ),
    ),
    (
        "{%- endfor -%}{% if not body_required %} | Unset = UNSET{% endif %}",
        "{%- endfor -%}{% if not required.all %} | Unset = UNSET{% endif %}",
    ),
]


def main() -> None:
    source = pathlib.Path(openapi_python_client.__file__).parent / "templates" / NAME
    text = source.read_text()
    for old, new in FIXES:
        if text.count(old) != 1:
            sys.exit(f"fix_templates.py: {source} no longer has {old!r} once: re-check the fix")
        text = text.replace(old, new)
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    (out / NAME).write_text(text)


if __name__ == "__main__":
    main()
