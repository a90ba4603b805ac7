"""embed.py against published values of all-MiniLM-L6-v2, and the corpus and queries of the
retrieval e2e test (tests/tests/retrieval.rs) checked by brute force: every query's expected
entities are among its 3 nearest by cosine. Run by `./dev test` with target/retrieval-venv's
python (tests/retrieval/requirements.txt):

    target/retrieval-venv/bin/python -m unittest discover -s tests/retrieval
"""

import json
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np

import embed

HERE = Path(__file__).resolve().parent
MODEL = embed.load_model()


def load_jsonl(name):
    with open(HERE / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def entity_text(entity):
    """What is embedded for an entity: its name and description (as tests/tests/retrieval.rs)."""
    return f"{entity['name']}: {entity['metadata']['description']}"


class PublishedValues(unittest.TestCase):
    """Numbers printed by others who ran the reference implementation (PyTorch or ONNX)."""

    def test_hello_world_matches_fastembed_canonical_vector(self):
        # fastembed's test suite (tests/test_text_onnx_embeddings.py, CANONICAL_VECTOR_VALUES):
        # the first five numbers of "hello world" under sentence-transformers/all-MiniLM-L6-v2.
        vector = embed.embed(["hello world", "flag embedding"], MODEL)[0]
        expected = [-0.034478, 0.03102, 0.00673, 0.02611, -0.039362]
        np.testing.assert_allclose(vector[:5], expected, atol=1e-5)

    def test_similarities_match_the_sentence_transformers_readme(self):
        # The quickstart of the sentence-transformers README, model "all-MiniLM-L6-v2":
        # model.similarity(embeddings, embeddings) printed to four decimals.
        sentences = [
            "The weather is lovely today.",
            "It's so sunny outside!",
            "He drove to the stadium.",
        ]
        vectors = embed.embed(sentences, MODEL)
        expected = [[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]]
        np.testing.assert_allclose(vectors @ vectors.T, expected, atol=6e-5)


class Properties(unittest.TestCase):
    def test_vectors_have_384_finite_numbers_and_unit_length(self):
        vectors = embed.embed(["a", "Ada Lovelace", "x " * 300, "  padded  "], MODEL)
        self.assertEqual(vectors.shape, (4, 384))
        self.assertTrue(np.isfinite(vectors).all())
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    def test_paraphrases_are_closer_than_unrelated_sentences(self):
        pairs = [
            ("A man is playing a guitar.", "Someone is strumming a guitar."),
            ("The cat sleeps on the sofa.", "A kitten is napping on the couch."),
            ("How do I reset my password?", "I forgot my password, how can I change it?"),
        ]
        unrelated = "Interest rates rose sharply at the central bank this quarter."
        for a, b in pairs:
            va, vb, vu = embed.embed([a, b, unrelated], MODEL)
            self.assertGreater(va @ vb, 0.5, (a, b))
            self.assertGreater(va @ vb, va @ vu + 0.3, (a, b))

    def test_a_text_embeds_the_same_alone_and_padded_in_a_batch(self):
        short = "Cheetahs are fast."
        alone = embed.embed([short], MODEL)[0]
        batched = embed.embed([short, "a much longer text " * 20], MODEL)[0]
        np.testing.assert_allclose(alone, batched, atol=1e-5)

    def test_surrounding_whitespace_changes_nothing(self):
        # sentence-transformers strips each text; BERT's pre-tokenizer drops the same whitespace.
        a, b = embed.embed(["  the moon \n", "the moon"], MODEL)
        np.testing.assert_allclose(a, b, atol=1e-6)

    def test_texts_are_cut_at_max_seq_length_256_tokens(self):
        # sentence_bert_config.json's 256, not tokenizer.json's 128; "word" is one token, so 400
        # of them keep [CLS] + 254 + [SEP].
        tokenizer = MODEL[0]
        self.assertEqual(len(tokenizer.encode("word " * 400).ids), 256)
        self.assertEqual(len(tokenizer.encode("word " * 200).ids), 202)
        self.assertEqual(len(tokenizer.encode("short").ids), 3)  # no padding either
        long, cut, shorter = embed.embed(["word " * 400, "word " * 254, "word " * 126], MODEL)
        np.testing.assert_allclose(long, cut, atol=1e-5)
        self.assertGreater(np.abs(long - shorter).max(), 1e-4)


class CommandLine(unittest.TestCase):
    def run_embed(self, stdin, *args):
        return subprocess.run(
            [sys.executable, str(HERE / "embed.py"), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )

    def test_json_lines_in_vectors_out_in_order(self):
        lines = ['"hello world"', "", '{"text": "The weather is lovely today."}']
        done = self.run_embed("\n".join(lines) + "\n")
        self.assertEqual(done.returncode, 0, done.stderr)
        out = [json.loads(line) for line in done.stdout.splitlines()]
        self.assertEqual([len(v) for v in out], [384, 384])
        expected = embed.embed(["hello world", "The weather is lovely today."], MODEL)
        np.testing.assert_allclose(out, expected, atol=1e-7)

    def test_a_file_argument_is_read_instead_of_stdin(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "texts.jsonl"
            path.write_text('{"text": "hello world"}\n"two"\n"three"\n', encoding="utf-8")
            done = self.run_embed('"ignored"\n', str(path))
        self.assertEqual(done.returncode, 0, done.stderr)
        out = [json.loads(line) for line in done.stdout.splitlines()]
        self.assertEqual(len(out), 3)
        np.testing.assert_allclose(out[0], embed.embed(["hello world"], MODEL)[0], atol=1e-7)

    def test_a_line_without_text_is_refused_naming_it(self):
        done = self.run_embed('"fine"\n{"name": "no text"}\n')
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("line 2", done.stderr)
        self.assertEqual(done.stdout, "")


# Words of an entity's name a query may use without giving the answer away.
STOPWORDS = {"a", "an", "and", "the", "of", "off", "on", "in", "no", "to"}


def words(text):
    return {w for w in re.findall(r"[\w]+", text.lower()) if w not in STOPWORDS}


class CorpusAndQueries(unittest.TestCase):
    """The data of the retrieval e2e test is well posed: what it asserts of the API holds for
    exact (brute-force) cosine search over the same vectors."""

    @classmethod
    def setUpClass(cls):
        cls.corpus = load_jsonl("corpus.jsonl")
        cls.queries = load_jsonl("queries.jsonl")
        cls.vectors = embed.embed([entity_text(e) for e in cls.corpus], MODEL)
        cls.query_vectors = embed.embed([q["query"] for q in cls.queries], MODEL)

    def test_the_corpus_is_a_few_hundred_varied_named_entities(self):
        self.assertGreaterEqual(len(self.corpus), 300)
        names = [e["name"] for e in self.corpus]
        self.assertEqual(len(names), len(set(names)), "names are unique")
        types = {e["type"] for e in self.corpus}
        self.assertGreaterEqual(len(types), 6, types)
        for e in self.corpus:
            self.assertEqual(set(e), {"type", "name", "metadata"}, e)
            self.assertRegex(e["type"], r"^[a-z]+$")
            self.assertTrue(e["metadata"]["description"].endswith("."), e)

    def test_queries_name_existing_entities_without_using_their_names(self):
        self.assertGreaterEqual(len(self.queries), 20)
        self.assertGreaterEqual(sum(1 for q in self.queries if q.get("types")), 3)
        # "text": the full-text words of the e2e test's hybrid search for that query.
        self.assertGreaterEqual(sum(1 for q in self.queries if q.get("text")), 3)
        by_name = {e["name"]: e for e in self.corpus}
        for q in self.queries:
            self.assertLessEqual(set(q), {"query", "text", "expect", "types"}, q)
            self.assertTrue(1 <= len(q["expect"]) <= 3, q)
            for name in q["expect"]:
                self.assertIn(name, by_name, q)
                self.assertFalse(words(name) & words(q["query"]), (name, q["query"]))
                self.assertFalse(words(name) & words(q.get("text", "")), (name, q.get("text")))
                if q.get("types"):
                    self.assertIn(by_name[name]["type"], q["types"], q)

    def test_every_query_ranks_its_expected_entities_in_the_top_3(self):
        names = [e["name"] for e in self.corpus]
        failures = []
        for q, v in zip(self.queries, self.query_vectors, strict=True):
            order = [
                names[i]
                for i in np.argsort(-(self.vectors @ v), kind="stable")
                if not q.get("types") or self.corpus[i]["type"] in q["types"]
            ]
            ranks = {name: order.index(name) + 1 for name in q["expect"]}
            if max(ranks.values()) > 3:
                failures.append(f"{q['query']!r}: ranks {ranks}, top 3 {order[:3]}")
        self.assertEqual(failures, [], "\n".join(failures))


if __name__ == "__main__":
    unittest.main()
