"""Who may add and remove, and per-user cooldowns (fake clock, no timing)."""

from bot.chat.guards import Cooldowns, has_role, may_add, may_remove


def test_everyone_may_add_without_an_editor_role():
    assert may_add([], [], None)
    assert may_add([1], ["member"], "")


def test_with_an_editor_role_only_its_members_may_add():
    assert not may_add([1], ["member"], "Editors")
    assert may_add([1, 2], ["member", "editors"], "Editors")
    assert may_add([42], ["whatever"], "42")  # by id


def test_remove_needs_manage_server_or_the_editor_role():
    assert not may_remove([1], ["member"], False, None)
    assert may_remove([], [], True, None)
    assert not may_remove([1], ["member"], False, "Editors")
    assert may_remove([1], ["Editors"], False, "Editors")


def test_has_role_does_not_match_partial_names():
    assert not has_role([], ["editor-trainee"], "editor")


def test_cooldown_is_per_user_and_per_action():
    now = [1000.0]
    cooldowns = Cooldowns(clock=lambda: now[0])
    assert cooldowns.hit("ask", 1, 10) is None
    retry = cooldowns.hit("ask", 1, 10)
    assert retry is not None and 0 < retry <= 10
    assert cooldowns.hit("ask", 2, 10) is None  # another user
    assert cooldowns.hit("add", 1, 10) is None  # another action
    now[0] += 10.5
    assert cooldowns.hit("ask", 1, 10) is None


def test_zero_cooldown_disables_it():
    cooldowns = Cooldowns(clock=lambda: 0.0)
    assert cooldowns.hit("ask", 1, 0) is None
    assert cooldowns.hit("ask", 1, 0) is None
