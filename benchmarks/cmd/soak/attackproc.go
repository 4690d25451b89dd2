package main

// The attackers of a scenario run in a process of their own, at a lower
// scheduling priority than the good clients (nice 10 when nice exists).
// On a machine where the attackers, the good clients and the server share
// a few cores, the attack generator would otherwise take the good clients'
// CPU, and their latency would measure the load generator rather than the
// server. An attacker on the Internet does not run on the server's clients'
// machines either.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// attackEnv is what an attacker process needs of the run's env.
type attackEnv struct {
	Info  serveInfo `json:"info"`
	Hello []byte    `json:"hello"`
}

// attackReport is an attackStats as the attacker process reports it.
type attackReport struct {
	Conns, Cut, DialErrs, LifeMax int64
	Codes                         map[int]int64
	Wrong                         int64
}

func (s *attackStats) report() attackReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return attackReport{Conns: s.conns.Load(), Cut: s.cut.Load(), DialErrs: s.dialErrs.Load(),
		LifeMax: s.lifeMax.Load(), Codes: s.codes, Wrong: s.wrong}
}

func (a attackReport) stats() *attackStats {
	s := &attackStats{codes: a.Codes, wrong: a.Wrong}
	s.conns.Store(a.Conns)
	s.cut.Store(a.Cut)
	s.dialErrs.Store(a.DialErrs)
	s.lifeMax.Store(a.LifeMax)
	return s
}

// attackMain is the attacker process: it runs the named families for d
// against the servers envFile describes and prints one attackReport per
// family, as JSON, on stdout.
func attackMain(names, envFile string, d time.Duration) error {
	raw, err := os.ReadFile(envFile)
	if err != nil {
		return err
	}
	var ae attackEnv
	if err := json.Unmarshal(raw, &ae); err != nil {
		return err
	}
	e := &env{info: ae.Info, clientHello: ae.Hello, bomb: deflateBomb(20 << 20)}
	var fams []family
	for _, n := range strings.Split(names, ",") {
		i := slices.IndexFunc(families, func(f family) bool { return f.name == n })
		if i < 0 {
			return fmt.Errorf("no attack family %q", n)
		}
		fams = append(fams, families[i])
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	stats := make([]*attackStats, len(fams))
	var wg sync.WaitGroup
	for j, f := range fams {
		stats[j] = &attackStats{}
		wg.Add(1)
		go func() { defer wg.Done(); f.run(ctx, e, stats[j]) }()
	}
	wg.Wait()
	reps := make([]attackReport, len(stats))
	for j, s := range stats {
		reps[j] = s.report()
	}
	return json.NewEncoder(os.Stdout).Encode(reps)
}

// runAttackers runs fams for d in an attacker process and returns what
// each did.
func (r *run) runAttackers(fams []family, d time.Duration) ([]*attackStats, error) {
	var names []string
	for _, f := range fams {
		names = append(names, f.name)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	argv := []string{self, "-attack", strings.Join(names, ","), "-attack-env", r.attackEnv, "-attack-for", d.String()}
	if nice, err := exec.LookPath("nice"); err == nil {
		argv = append([]string{nice, "-n", "10"}, argv...)
	}
	c := exec.Command(argv[0], argv[1:]...)
	c.Stderr = os.Stderr
	out, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("attacker process: %w", err)
	}
	var reps []attackReport
	if err := json.Unmarshal(out, &reps); err != nil || len(reps) != len(fams) {
		return nil, fmt.Errorf("attacker process report %q: %v", out, err)
	}
	stats := make([]*attackStats, len(reps))
	for i, a := range reps {
		stats[i] = a.stats()
	}
	return stats, nil
}

// writeAttackEnv saves what the attacker processes need in dir.
func (r *run) writeAttackEnv(dir string) error {
	b, err := json.Marshal(attackEnv{Info: r.e.info, Hello: r.e.clientHello})
	if err != nil {
		return err
	}
	r.attackEnv = dir + "/attack-env.json"
	return os.WriteFile(r.attackEnv, b, 0o600)
}
