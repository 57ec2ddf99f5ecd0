"""The edit throttle for streamed answers, on a fake clock: at most one edit per interval,
always the final one, nothing after it."""

from bot.chat.streaming import EditThrottle, ThrottledEditor, shorten


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_first_partial_goes_out_at_once_then_one_per_second():
    clock = Clock()
    throttle = EditThrottle(1.0, clock)
    assert throttle.offer("A") == "A"
    clock.now += 0.3
    assert throttle.offer("A b") is None
    clock.now += 0.3
    assert throttle.offer("A b c") is None
    clock.now += 0.5  # 1.1 s after the first edit
    assert throttle.offer("A b c d") == "A b c d"
    clock.now += 0.99
    assert throttle.offer("A b c d e") is None


def test_a_token_every_50ms_for_5s_gives_at_most_one_edit_per_second_plus_the_final():
    clock = Clock()
    sent: list[tuple[float, str]] = []
    editor = ThrottledEditor(lambda text: sent.append((clock.now, text)), 1.0, clock)
    text = ""
    for i in range(100):
        text += f"w{i} "
        editor.on_partial(text)
        clock.now += 0.05
    editor.finish("Final checked answer [1].")
    partial_times = [t for t, _ in sent[:-1]]
    assert sent[-1][1] == "Final checked answer [1]."
    assert 4 <= len(partial_times) <= 6
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(partial_times, partial_times[1:], strict=False))
    # Every partial is a prefix of the streamed text: edits only ever grow.
    partials = [t for _, t in sent[:-1]]
    assert all(text.startswith(p) for p in partials)
    assert partials == sorted(partials, key=len)


def test_the_final_goes_out_even_right_after_a_partial_and_later_partials_are_ignored():
    clock = Clock()
    throttle = EditThrottle(1.0, clock)
    assert throttle.offer("partial") == "partial"
    clock.now += 0.01
    assert throttle.final("final") == "final"
    clock.now += 5
    assert throttle.offer("late token") is None
    assert throttle.pending() is None
    assert throttle.finished


def test_an_unchanged_text_is_not_sent_again():
    clock = Clock()
    throttle = EditThrottle(1.0, clock)
    assert throttle.offer("same") == "same"
    clock.now += 2
    assert throttle.offer("same") is None


def test_pending_hands_over_the_newest_skipped_text_once_an_edit_is_due():
    clock = Clock()
    throttle = EditThrottle(1.0, clock)
    throttle.offer("one")
    clock.now += 0.2
    throttle.offer("one two")
    throttle.offer("one two three")
    assert throttle.pending() is None  # not due yet
    clock.now += 0.9
    assert throttle.pending() == "one two three"
    assert throttle.pending() is None  # sent already


def test_partials_are_cut_to_fit_but_the_final_is_not():
    sent: list[str] = []
    editor = ThrottledEditor(sent.append, 1.0, Clock(), max_chars=10)
    editor.on_partial("0123456789abcdef")
    editor.finish("0123456789abcdef")
    assert sent == ["012345678\u2026", "0123456789abcdef"]
    assert shorten("short", 10) == "short" and shorten("x", None) == "x"


def test_the_editor_keeps_what_the_last_send_returned():
    clock = Clock()
    editor = ThrottledEditor(lambda text: f"future:{text}", 1.0, clock)
    editor.on_partial("a")
    assert editor.last_result == "future:a"
    clock.now += 0.1
    editor.on_partial("a b")  # throttled: nothing sent
    assert editor.last_result == "future:a"
    editor.finish("done")
    assert editor.last_result == "future:done"
