"""Common English words that are also given names, surnames or company-name parts.

A customer called "Mark Will", "Grace Hope" or "Bill Young" shares every part of their name with
ordinary English: "Mark the price down", "you will see", "the bill". :mod:`.names` masks such a
part on its own only where the text uses it as a name (see its docstring), and needs to know
which parts are words. This is that list: everyday English (verbs, nouns, adjectives, function
words), weighted towards the words people are named (``will``, ``mark``, ``grace``, ``rose``,
``may``, ``king``, ``young``). A part not in it, the lexicon or the case's catalogue is a
distinctive name ("Ardmore") and is masked wherever it is written capitalised.
"""

from __future__ import annotations

__all__ = ["ENGLISH"]

_TEXT = """
a about above account across act action actually add after again against age ago agree ahead
air all allow almost alone along already also always am amber among amount an and angel
another answer any anyone anything apple april are area arm around art as ask at august
autumn available away baby back bad bake baker ball band bank bar base basic be bear beat
became because become bed been before began begin behind being believe bell below belt best
better between big bill bird bishop bit black blank bless bliss block blue board boat bob
body bond book born both bottom bought box boy brand branch brave bread break bright bring
brook brother brown budget build building burn bush business busy but buy by call came can
candy car card care carry case cash cause cell center central chance change charge charity
chase cheap check chief child choice church city claim class clay clean clear cliff climb
clock close cloud club coach coast code cold colour color come common company complete cook
cool copper coral corn cost could count country course court cover crane cream credit cross
crow crown crystal cup current cut daisy dale dare dark date dawn day dead deal dean dear
december decide deep desire did diamond different direct do does dog doing done door double
doubt dove down drake draw dream dress drew drink drive drop dry duke during dusty each early
earn earth east easy eat edge else end energy enough even evening ever every eve example
faith fall family far farm fast father fear feel felt few field fill final find fine fish
fisher fit five fix flat fleet flower fly follow food for force ford forest forget form
forward fox frank free fresh friday friend from front full fun further future game garden
gate gave gem general gift give glad glen glory go gold golden good got grace grand grant
gray great green grey ground group grow guy had half hall hand happy hard harmony hart has
have he head hear heart heat heather held help her here hero high hill him his hold holly
home honey honor honour hope hot hour house how hunt hunter i idea if in into iris is it its
ivy jack jade january jay jet job join joy judge july jump june just keep key kind king
knight know lady lake lamb land lane large last late later lead learn least leave left less
let letter level life light like lily line lion list little live lock long look lord lot
love low luck lucky made main major make man many march mark marsh mason may me mean meet
member might miles mill mind miner minor miss moon more morning most mother move much must my
name near need never new next nice night no north not note nothing november now number
o'clock ocean october of off offer often oil old on once one only open or order other our
out over own page paid paint palmer park part pass past pat patience pay peace pearl penny
people per person piper place plain plan play please plus point poor port post power
present press price pride prince pro problem public pure put queen question quick quite rain
ray read ready real reason red reed rich right ring river road robin rock rose round rule run
rush sage said sale same saturday saw say sea season see seem seen sell send september serve
service set shade shadow shall share sharp she shepherd shore short should show side sign
silver simple since sing sister sky small smart smith snow so some something son soon sound
south spark speak special spring stand star start state stay steel step sterling still stone
stop storm story street strong such sue summer sun sunday sunny support sure sweet swift
table take talk tall taylor team tell than thank that the their them then there these they
thing think this those though three through thursday time tiny to today together told too
took top total toward town track trade true trust try tucker tuesday turn turner two under
until up upon us use usual valley very view violet wait walk wall want war ward warm was
watch water way we wednesday week well were west what when where which while white who whole
why wide will win winter wise wish with within without wolf wood word work world would write
year yes yet you young your
account admin analytics billing cloud customer data digital global group labs media network
online partners plus premium pro services shop software solutions studio systems tech
technologies today ventures works
"""

#: Lower-case English words a name part can be (see the module docstring).
ENGLISH: frozenset[str] = frozenset(_TEXT.split())
