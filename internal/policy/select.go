package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// item is one tag on its way through Select.
type item struct {
	Tag
	cur    bool // the current tag
	listed bool // the registry lists it

	// Set when the order can place the item.
	keyed bool
	ver   *version
	num   number
	val   string

	outcome Outcome
	reason  string
}

// merge folds duplicate listings of one tag into one, independent of their
// order: the latest creation and push times, the smallest non-empty digest.
func merge(a, b Tag) Tag {
	if b.Created.After(a.Created) {
		a.Created = b.Created
	}
	if b.Pushed.After(a.Pushed) {
		a.Pushed = b.Pushed
	}
	if a.Digest == "" || b.Digest != "" && b.Digest < a.Digest {
		a.Digest = b.Digest
	}
	return a
}

// cmpValue compares two placed items by the order alone: > 0 when a is newer.
func cmpValue(o order, a, b *item) int {
	switch o {
	case orderSemver:
		return cmpVersion(a.ver, b.ver)
	case orderNumeric:
		return cmpNumber(a.num, b.num)
	case orderAlphabetical:
		return strings.Compare(a.val, b.val)
	case orderCreated:
		return a.Created.Compare(b.Created)
	case orderPushed:
		return a.Pushed.Compare(b.Pushed)
	}
	return 0
}

// timed reports whether o orders by a time: creation or push.
func timed(o order) bool { return o == orderCreated || o == orderPushed }

// when is the time of it that min_age measures under o: the push time
// under newest-push, else the creation time.
func when(o order, it *item) time.Time {
	if o == orderPushed {
		return it.Pushed
	}
	return it.Created
}

// timeWord is what when measures: "created" or "pushed".
func timeWord(o order) string {
	if o == orderPushed {
		return "pushed"
	}
	return "created"
}

// timeName names when's time: "creation time" or "push time".
func timeName(o order) string {
	if o == orderPushed {
		return "push time"
	}
	return "creation time"
}

// cmpRank is the total order of placed items, best first: newer first, and
// among equals the byte-wise smaller name first.
func cmpRank(o order, a, b *item) int {
	if c := cmpValue(o, a, b); c != 0 {
		return -c
	}
	return strings.Compare(a.Name, b.Name)
}

// outcomeRank orders the verdicts of items the order did not place.
var outcomeRank = map[Outcome]int{
	Current: 0, TooYoung: 1, Unordered: 2, Incompatible: 3, Excluded: 4, Filtered: 5, Invalid: 6,
}

// place computes the ordering key of it; it returns "" when it is placed,
// else the outcome and reason for losing. cur is the current tag's version
// under orderSemver (nil when it is not one).
func (p *Policy) place(o order, it *item, cur *version) (Outcome, string) {
	val, ok := p.value(it.Name)
	if !ok && !timed(o) {
		return Unordered, "extract " + p.extractSpec + " matched nothing"
	}
	it.val = val
	shown := strconv.Quote(val)
	if p.extract < 0 {
		shown = "tag"
	}
	switch o {
	case orderSemver:
		v, ok := parseVersion(val)
		if !ok {
			if p.extract < 0 {
				return Unordered, "not a version"
			}
			return Unordered, "extracted " + shown + " is not a version"
		}
		it.ver = v
		if cur == nil || it.cur {
			break
		}
		if ok, why := compatible(cur, v); !ok {
			return Incompatible, "version of another shape: it " + why
		}
		if v.pre != nil && cur.pre == nil && p.kind != kindSemver {
			return Incompatible, "a pre-release; the current tag is a release"
		}
	case orderNumeric:
		n, ok := parseNumber(val)
		if !ok {
			if p.extract < 0 {
				return Unordered, "not a number"
			}
			return Unordered, "extracted " + shown + " is not a number"
		}
		it.num = n
	case orderCreated:
		if it.Created.IsZero() {
			return Unordered, "creation time unknown"
		}
	case orderPushed:
		if it.Pushed.IsZero() {
			return Unordered, "push time unknown"
		}
	}
	it.keyed = true
	return "", ""
}

// describe names an item for reasons: the tag, and what the order looks at
// when that is not the tag itself.
func (p *Policy) describe(o order, it *item) string {
	s := strconv.Quote(it.Name)
	switch {
	case timed(o):
		s += " (" + timeWord(o) + " " + when(o, it).UTC().Format(time.RFC3339) + ")"
	case p.extract >= 0:
		s += " (" + p.extractSpec + " = " + strconv.Quote(it.val) + ")"
	}
	return s
}

// own is what the order saw of the item itself, as a prefix for its own
// reason: "created 2026-11-01T14:00:00Z: ...", so that a time or an
// extracted value in parentheses is always the other tag's.
func (p *Policy) own(o order, it *item) string {
	switch {
	case timed(o):
		return timeWord(o) + " " + when(o, it).UTC().Format(time.RFC3339) + ": "
	case p.extract >= 0:
		return p.extractSpec + " = " + strconv.Quote(it.val) + ": "
	}
	return ""
}

var orderWords = map[order]string{
	orderSemver:       "version",
	orderNumeric:      "number",
	orderAlphabetical: "alphabetical order",
	orderCreated:      "creation time",
	orderPushed:       "push time",
}

// Select picks the tag for a reference whose current tag is current among
// the registry's tags (raw, or as kept by Candidates: Select filters them
// again). now is the time min_age is measured at.
//
// Rules:
//   - The best tag wins if the order places it strictly above the current
//     tag; equal rank means no change, so tags never flap.
//   - The current tag is compared by its own name (version, number, value)
//     even when the registry no longer lists it, and by its creation time
//     under a creation-time order; when the registry lists it, the listing's
//     Created and Digest win over those of current, which fill gaps only. allow_downgrade lets the best listed tag win
//     over a current tag the registry no longer lists.
//   - Under a version order, when the current tag is a version, only
//     versions of the same shape compete: same "v" spelling, same number of
//     numeric parts, same suffix ("-alpine"), both or neither date-based;
//     pre-releases only when the current tag is one (or a semver: range
//     names one).
//   - The default order of glob: and regex: patterns is by version when the
//     current tag is a version, else by creation time; a tag whose creation
//     time is unknown then cannot be placed and Select sets Err instead of
//     guessing (unless min_age already rules it out).
//   - With min_age, a tag created less than min_age before now, or at an
//     unknown time, is not chosen.
//   - Order "digest" keeps the current tag and sets FollowDigest.
func (p *Policy) Select(current Tag, candidates []Tag, now time.Time) Choice {
	return p.choose(current, candidates, now, true, false)
}

// Decide is Select without the explanations of the tags that lost:
// Choice.Verdicts is nil, the rest is what Select returns. candidates must
// be tags Candidates kept for the same current tag (so they are not
// filtered again), each with its Created and Digest.
//
// A bump needs only the choice; building a sentence for each of hundreds
// of tags, and sorting them, was most of the cost of deciding.
func (p *Policy) Decide(current Tag, candidates []Tag, now time.Time) Choice {
	return p.choose(current, candidates, now, false, true)
}

// choose is Select; with explain false it leaves out the verdicts, and
// with filtered it trusts that candidates passed the filter.
func (p *Policy) choose(current Tag, candidates []Tag, now time.Time, explain, filtered bool) Choice {
	ch := Choice{Current: current.Name, Tag: current.Name}

	// Deduplicate, in a way that does not depend on the input order.
	byName := map[string]*item{}
	for _, t := range candidates {
		if it, ok := byName[t.Name]; ok {
			it.Tag = merge(it.Tag, t)
			continue
		}
		byName[t.Name] = &item{Tag: t, listed: true}
	}
	cur, listed := byName[current.Name]
	if listed {
		cur.cur = true
		if cur.Created.IsZero() {
			cur.Created = current.Created
		}
		if cur.Pushed.IsZero() {
			cur.Pushed = current.Pushed
		}
		if cur.Digest == "" {
			cur.Digest = current.Digest
		}
	} else {
		cur = &item{Tag: current, cur: true}
	}
	cur.outcome = Current
	items := make([]*item, 0, len(byName)+1)
	for _, it := range byName {
		if !it.cur {
			items = append(items, it)
		}
	}
	ch.Digest = cur.Digest

	if why := checkTag(current.Name); why != "" {
		ch.Err = fmt.Errorf("current tag %q is not a valid tag: %s", current.Name, why)
		cur.reason = "not a valid tag"
		if explain {
			p.rejectAll(items, "no choice: the current tag is not valid")
			ch.Verdicts = p.verdicts(orderSemver, cur, items)
		}
		ch.Order = p.order.String()
		ch.Reason = ch.Err.Error()
		return ch
	}

	curPre := p.isPre(current.Name)
	live := items // the items that passed the filter
	if !filtered {
		live = nil
		for _, it := range items {
			if o, why := p.filter(it.Name, curPre); o != "" {
				it.outcome, it.reason = o, why
				continue
			}
			live = append(live, it)
		}
	}

	o := p.effectiveOrder(current.Name)
	ch.Order = o.String()
	if o == orderDigest {
		return p.selectDigest(ch, cur, listed, items, live, now, explain)
	}

	// Place the current tag, then every candidate.
	var curVer *version
	if o == orderSemver {
		if val, ok := p.value(current.Name); ok {
			curVer, _ = parseVersion(val)
		}
	}
	if out, why := p.place(o, cur, curVer); out != "" {
		cur.reason = why
	}
	var placed, unknown []*item
	for _, it := range live {
		out, why := p.place(o, it, curVer)
		if out == "" {
			placed = append(placed, it)
			continue
		}
		it.outcome, it.reason = out, why
		if timed(o) && out == Unordered {
			if p.minAge > 0 {
				it.outcome, it.reason = TooYoung, timeName(o)+" unknown; min_age "+p.minAge.String()+" needs it"
			} else {
				unknown = append(unknown, it)
			}
		}
	}
	slices.SortFunc(placed, func(a, b *item) int { return cmpRank(o, a, b) })

	// min_age.
	var eligible []*item
	for _, it := range placed {
		if p.minAge > 0 {
			t := when(o, it)
			if age := now.Sub(t); t.IsZero() {
				it.outcome, it.reason = TooYoung, timeName(o)+" unknown; min_age "+p.minAge.String()+" needs it"
				continue
			} else if age < p.minAge {
				it.outcome, it.reason = TooYoung, timeWord(o)+" "+age.Round(time.Second).String()+" ago; min_age is "+p.minAge.String()
				continue
			}
		}
		eligible = append(eligible, it)
	}

	// Decide.
	var best *item
	if len(eligible) > 0 {
		best = eligible[0]
	}
	switch {
	case len(unknown) > 0:
		names := append([]*item{}, unknown...)
		if !cur.keyed && timed(o) {
			names = append(names, cur)
		}
		if o == orderPushed {
			ch.Err = fmt.Errorf("cannot order %s: the registry's listing gives no push time for them; "+
				"set min_age to skip such tags, or another order", nameList(names))
		} else {
			ch.Err = fmt.Errorf("cannot order %s: no version and no creation time; "+
				"set min_age to skip such tags, or an explicit order", nameList(names))
		}
		cur.reason = "stays: the tags cannot be ordered"
	case best == nil:
		cur.reason = "stays: no candidate"
		if len(placed) > 0 {
			cur.reason = "stays: every newer candidate is too young"
		}
	case !cur.keyed && !(p.allowDowngrade && !listed):
		ch.Err = fmt.Errorf("cannot compare with the current tag %q: %s", current.Name, cur.reason)
		cur.reason = "stays: it cannot be compared (" + cur.reason + ")"
	case cur.keyed && cmpValue(o, best, cur) > 0:
		ch.Tag, ch.Digest, ch.Changed = best.Name, best.Digest, true
		best.outcome = Chosen
		best.reason = p.own(o, best) + "newest by " + orderWords[o] + "; newer than the current " + p.describe(o, cur)
		cur.reason = "replaced by " + strconv.Quote(best.Name)
	case p.allowDowngrade && !listed:
		ch.Tag, ch.Digest, ch.Changed = best.Name, best.Digest, true
		best.outcome = Chosen
		best.reason = "newest listed by " + orderWords[o] + "; the current tag is no longer listed and allow_downgrade is set"
		cur.reason = "not listed by the registry; replaced by " + strconv.Quote(best.Name)
	default:
		cur.reason = "stays: no tag is newer"
		if slices.ContainsFunc(placed, func(it *item) bool { return it.outcome == TooYoung && cmpValue(o, it, cur) > 0 }) {
			cur.reason = "stays: the newer tags are too young"
		}
		if !listed {
			cur.reason += " (the registry no longer lists it)"
		}
	}

	switch {
	case ch.Err != nil:
		ch.Reason = ch.Err.Error()
	case ch.Changed:
		ch.Reason = strconv.Quote(ch.Tag) + " " + best.reason
	default:
		ch.Reason = strconv.Quote(ch.Current) + " " + cur.reason
	}
	if !explain {
		return ch
	}

	// Reasons for the placed items that lost.
	for _, it := range placed {
		if it.outcome != "" {
			continue
		}
		switch {
		case ch.Err != nil:
			it.outcome, it.reason = Unordered, "no choice: the policy cannot decide"
		case ch.Changed:
			it.outcome, it.reason = Older, p.own(o, it)+"older than the chosen "+p.describe(o, best)
			if cmpValue(o, it, best) == 0 {
				it.reason = p.own(o, it) + "equal to the chosen " + p.describe(o, best) + ", which sorts first by name"
			}
		case cmpValue(o, it, cur) == 0:
			it.outcome, it.reason = Older, p.own(o, it)+"not newer than the current "+p.describe(o, cur)+"; equal by "+orderWords[o]
		default:
			it.outcome, it.reason = Older, p.own(o, it)+"older than the current "+p.describe(o, cur)
		}
	}
	for _, it := range unknown {
		it.reason = "creation time unknown and not a version; cannot be ordered"
		if o == orderPushed {
			it.reason = "push time unknown; cannot be ordered"
		}
	}
	ch.Verdicts = p.verdicts(o, cur, items)
	return ch
}

// selectDigest implements order "digest": the tag never changes; its digest
// is followed unless min_age holds it back.
func (p *Policy) selectDigest(ch Choice, cur *item, listed bool, items, live []*item, now time.Time, explain bool) Choice {
	for _, it := range live {
		it.outcome, it.reason = Unordered, `order "digest" keeps the current tag`
	}
	switch {
	case !listed:
		ch.Err = fmt.Errorf("order %q: the registry no longer lists the current tag %q; there is no digest to follow", OrderDigest, cur.Name)
		cur.reason = "not listed by the registry"
		ch.Reason = ch.Err.Error()
	case p.minAge > 0 && cur.Created.IsZero():
		cur.reason = "stays; digest not followed: creation time unknown and min_age " + p.minAge.String() + " needs it"
	case p.minAge > 0 && now.Sub(cur.Created) < p.minAge:
		cur.reason = "stays; digest not followed: created " + now.Sub(cur.Created).Round(time.Second).String() + " ago; min_age is " + p.minAge.String()
	default:
		ch.FollowDigest = true
		cur.reason = "stays; its digest is followed"
	}
	if ch.Reason == "" {
		ch.Reason = strconv.Quote(cur.Name) + " " + cur.reason
	}
	if explain {
		ch.Verdicts = p.verdicts(orderDigest, cur, items)
	}
	return ch
}

// rejectAll gives every item its filter outcome, or else Unordered.
func (p *Policy) rejectAll(items []*item, reason string) {
	for _, it := range items {
		if o, why := p.filter(it.Name, false); o != "" {
			it.outcome, it.reason = o, why
		} else {
			it.outcome, it.reason = Unordered, reason
		}
	}
}

// verdicts lists every item: the placed ones best first, then the rest by
// outcome and name.
func (p *Policy) verdicts(o order, cur *item, items []*item) []Verdict {
	all := append([]*item{cur}, items...)
	slices.SortFunc(all, func(a, b *item) int {
		switch {
		case a.keyed && b.keyed:
			return cmpRank(o, a, b)
		case a.keyed:
			return -1
		case b.keyed:
			return 1
		}
		if c := outcomeRank[a.outcome] - outcomeRank[b.outcome]; c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	vs := make([]Verdict, len(all))
	for i, it := range all {
		vs[i] = Verdict{Tag: it.Name, Outcome: it.outcome, Reason: it.reason}
	}
	return vs
}

// nameList quotes up to five names, sorted: `"a", "b" and 3 more`.
func nameList(items []*item) string {
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = strconv.Quote(it.Name)
	}
	slices.Sort(names)
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + " and " + strconv.Itoa(len(names)-5) + " more"
	}
	return strings.Join(names, ", ")
}
