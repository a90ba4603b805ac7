"""Native unit tests of the reports component's pure modules (stdlib only), run by `./dev test`:
each ports the unit tests of the Rust module it is a second implementation of, so the two agree."""
