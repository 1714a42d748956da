import pytest

from attunement.conversation.rttm import format_rttm, parse_rttm, read_rttm, write_rttm
from attunement.errors import InputError
from attunement.records import Segment


def test_round_trip(tmp_path):
    segs = [Segment(0.5, 2.25, "ann"), Segment(2.0, 3.125, "bo"), Segment(4.0, 4.5, "ann")]
    out = tmp_path / "x.rttm"
    write_rttm(out, segs, file_id="talk one")
    assert read_rttm(out) == segs
    assert out.read_text().splitlines()[0] == "SPEAKER talk_one 1 0.500 1.750 <NA> <NA> ann <NA> <NA>"


def test_several_files_need_a_name():
    text = "SPEAKER a 1 0 1 <NA> <NA> s1 <NA> <NA>\nSPEAKER b 1 2 1 <NA> <NA> s2 <NA> <NA>\n"
    files = parse_rttm(text)
    assert sorted(files) == ["a", "b"] and files["b"] == [Segment(2.0, 3.0, "s2")]


@pytest.mark.parametrize("line, match", [
    ("SPEAKER a 1 zero 1 <NA> <NA> s1", "not numbers"),
    ("SPEAKER a 1 0 -1 <NA> <NA> s1", ">= 0"),
    ("SPEAKER a 1 0", "needs at least 8"),
])
def test_malformed_lines_name_the_line(line, match):
    with pytest.raises(InputError, match=match) as e:
        parse_rttm("SPEAKER a 1 0 1 <NA> <NA> s1\n" + line, source="f.rttm")
    assert "f.rttm:2" in str(e.value)


def test_missing_and_empty(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_rttm(tmp_path / "nope.rttm")
    (tmp_path / "empty.rttm").write_text("")
    with pytest.raises(InputError, match="no SPEAKER"):
        read_rttm(tmp_path / "empty.rttm")


@pytest.mark.realdata
def test_reads_the_shared_annotations(shared_data):
    segs = read_rttm(shared_data / "conversations" / "sample.rttm")
    assert {s.speaker for s in segs} == {"speaker90", "speaker91"}
    ami = parse_rttm((shared_data / "conversations" / "ami" / "debug.development.rttm").read_text())
    assert {"dev00", "dev01"} <= set(ami)
    assert format_rttm(segs, file_id="sample").count("\n") == len(segs)
