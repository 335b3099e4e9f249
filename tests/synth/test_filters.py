"""Output filters for LLM-written records, and the LLM paths of short_rl / long_sft with a scripted model:
each drop reason is counted, and an RL item's answer is always the computed one."""

from pipeline.synth import long_sft, short_pretrain, short_rl
from pipeline.synth.checkers import check
from pipeline.synth.filters import FilterConfig, NearDuplicates, strip_preamble, text_reason
from tests.synth.corpus import make_docs

PROSE = ("The river flows through the old town and the bridge over it was built in the last century by "
         "workers who came from the villages in the north of the valley.")


class Scripted:
    """A generator that answers each request with `fn(request)`."""

    name = "scripted"

    def __init__(self, fn):
        self.fn, self.seen = fn, []

    def complete(self, requests):
        self.seen += requests
        return [self.fn(r) for r in requests]


def test_each_reason():
    cfg = FilterConfig()
    assert text_reason(PROSE, cfg) is None
    assert text_reason("Too short to be a document.", cfg) == "too_short"
    assert text_reason(" ".join([PROSE] * 60), cfg) == "too_long"
    assert text_reason("I'm sorry, but as an AI I cannot rewrite this text for you. " + PROSE, cfg) == "refusal"
    assert text_reason("Der Fluss fliesst durch die alte Stadt und die Bruecke wurde im letzten Jahrhundert "
                       "von Arbeitern aus den Doerfern im Norden des Tals gebaut.", cfg) == "wrong_language"
    assert text_reason(PROSE, cfg, source="Intro. " + PROSE + " More.") == "copy_of_source"
    looping = "Question: What is it?\nAnswer: A river.\n" * 4 + PROSE
    assert text_reason(looping, cfg) == "repetitive"
    rewritten = ("Built during the previous century by labourers from northern villages, a bridge spans the "
                 "river, which runs across the historic town centre of the valley.")
    assert text_reason(rewritten, cfg, source=PROSE) is None
    assert strip_preamble("Sure! Here is the rewritten text:\n" + PROSE) == PROSE
    dups = NearDuplicates(cfg)
    assert not dups.seen(PROSE) and dups.seen(PROSE.replace("valley", "dale")) and not dups.seen(rewritten)


def test_rephrase_drops_are_counted_by_reason():
    docs = make_docs(3)[:5]
    outs = iter(["I am sorry, I cannot help with that request at all, as an AI language model.", "",
                 PROSE, PROSE, "short."])
    records, counts = short_pretrain.generate(docs, short_pretrain.ShortPretrainConfig(), Scripted(lambda r: next(outs)), 0)
    assert counts == {"dropped_refusal": 1, "dropped_no_response": 1, "records": 1, "dropped_near_duplicate": 1,
                      "dropped_too_short": 1}
    assert [r["text"] for r in records] == [PROSE]


def test_word_problems_keep_the_computed_answer_and_drop_bad_ones():
    docs = make_docs(12)
    cfg = short_rl.ShortRlConfig(tasks=["arithmetic"])

    def write(req, mode):
        text = req.messages[-1]["content"]
        a, b = [int(t) for t in text.split("numbers ")[1].split(" and is")[0].split(" and ")]
        if mode == "good":
            return f"A farm had {a} sheep and then the farmer counted {b} more animals in the field. How many now?"
        if mode == "solved":
            return f"A farm had {a} sheep and {b} more came. So {a} + {b} = {a + b + 1}. How many now?"
        return f"A farm had {a} sheep in the field near the river by the old mill. How many are there now?"

    good, c_good = short_rl.generate(docs, cfg, 3, generator=Scripted(lambda r: write(r, "good")))
    assert c_good["task_word_problem"] == len(good) == len(docs)
    for rec in good:
        q = rec["messages"][-1]["content"]
        assert rec["checker"] == "arithmetic" and check("arithmetic", f"Answer: {rec['answer']}", rec["answer"])
        assert q.startswith("A farm had")  # the model's problem, the pipeline's answer
    bad, c_bad = short_rl.generate(docs, cfg, 3, generator=Scripted(lambda r: write(r, "missing")))
    assert bad == [] and c_bad["dropped_checker_failure"] == len(docs)
    solved, c_solved = short_rl.generate(docs, cfg, 3, generator=Scripted(lambda r: write(r, "solved")))
    assert solved == [] and c_solved["dropped_checker_failure"] == len(docs)  # a (wrong) worked answer
    plain, _ = short_rl.generate(docs, cfg, 3)  # offline: template questions, same computed answers
    assert [r["answer"] for r in plain] == [r["answer"] for r in good]


def test_long_sft_llm_questions_never_contain_the_answer():
    docs = make_docs(6)
    cfg = long_sft.LongSftConfig(target_tokens=300, per_group=3)

    def ask(req):
        number = req.messages[-1]["content"].split("answers with ")[1].removesuffix(".")
        return f"How many were there according to the record, {number}?" if number.endswith("1") else \
            "How many items does the sentence in the documents report?"

    records, counts = long_sft.generate(docs, cfg, 1, "g", generator=Scripted(ask))
    assert counts["records"] == len(records) > 0
    for rec in records:
        prompt, answer = rec["messages"][0]["content"], rec["messages"][1]["content"]
        assert prompt.endswith("How many items does the sentence in the documents report?")
        assert answer.startswith(f"According to Document [{rec['gold_position']}]")
    assert counts["records"] + counts.get("dropped_checker_failure", 0) == 3
