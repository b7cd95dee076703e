namespace Btmc.Compute.Jobs;

/// <summary>Where a job's task stands in the job's own records (the pool has its own view; see <see cref="ComputeJobService"/>).</summary>
public enum JobTaskState
{
    /// <summary>Submitted to the pool; no result read yet.</summary>
    Pending,

    /// <summary>Finished with a result that passed <see cref="TaskResults"/>.</summary>
    Completed,

    /// <summary>Finished with a result that failed <see cref="TaskResults"/>: its contributor is caught.</summary>
    Invalid,

    /// <summary>The pool could not run it, or it exited with an error: the job fails.</summary>
    Failed,
}

/// <summary>One task of a job as the job keeps it.</summary>
/// <param name="Id">The pool's task id.</param>
/// <param name="Role">Original, verification, tie-break or redo.</param>
/// <param name="Index">The original task it is (or re-executes), in the plan.</param>
/// <param name="Contributor">Whose worker runs it.</param>
/// <param name="State">Where it stands.</param>
/// <param name="Result">The checked result (<see cref="CheckedResult.Canonical"/>) once completed.</param>
/// <param name="Work">Work units the result is worth (credited only if the verdict says so).</param>
/// <param name="Problem">Why it failed or is invalid.</param>
public sealed record JobTask(string Id, TaskRole Role, int Index, string Contributor, JobTaskState State, string? Result = null, long Work = 0, string? Problem = null)
{
    public bool IsFinished => State != JobTaskState.Pending;
}

/// <summary>How a sampled task's check came out.</summary>
public enum CheckDecision
{
    /// <summary>Waiting for results (or for the tie-break).</summary>
    Pending,

    /// <summary>The original and its verification agree.</summary>
    Agreed,

    /// <summary>They disagreed and the tie-break (or the verification's invalid result) upheld the original: the verifier is caught.</summary>
    OriginalUpheld,

    /// <summary>They disagreed and the tie-break (or the original's invalid result) upheld the verification: the original's contributor is caught.</summary>
    VerificationUpheld,

    /// <summary>They disagreed and no third contributor could settle it (or the tie-break was invalid): both are disputed, neither credited.</summary>
    Disputed,
}

/// <summary>The check of one sampled task, as the job status shows it once the job has finished.</summary>
public sealed record VerificationCheck(int Index, string Task, string Contributor, string VerificationTask, string Verifier, CheckDecision Decision, string? TieBreakTask, string? TieBreaker);

/// <summary>The result a job keeps for one task of its plan, and the task whose output it is.</summary>
public sealed record FinalResult(int Index, string Task, string Contributor, string Result);

/// <summary>
/// The decision over a job's tasks (docs/compute-jobs.md, "Verification" and "Crediting"), a pure function of the
/// tasks, so every instance and every restart decides alike:
/// <list type="number">
/// <item>A failed task fails the job.</item>
/// <item>An invalid result catches its contributor. A sampled task whose original and verification agree is confirmed;
/// when they disagree, a third contributor runs a tie-break, and whoever the tie-break contradicts is caught (with no
/// third contributor available, both are disputed). If all three differ, the job fails.</item>
/// <item>A task whose result is not vouched for by an honest contributor (its contributor caught or disputed) is
/// redone by an honest one, whose result replaces it; with no honest contributor left, the job fails.</item>
/// <item>Once every task is finished and every result settled, the job is complete: each completed task of a
/// contributor neither caught nor disputed is credited its work, any role; a caught or disputed contributor gets
/// nothing for the job.</item>
/// </list>
/// </summary>
public sealed record JobVerdict(
    IReadOnlyList<JobTask> NewTasks,
    IReadOnlySet<string> Caught,
    IReadOnlySet<string> Disputed,
    IReadOnlyList<VerificationCheck> Checks,
    string? Failure,
    IReadOnlyList<FinalResult>? Results)
{
    /// <summary>Every task finished, every result settled, nothing failed.</summary>
    public bool IsComplete => Failure is null && Results is not null;

    /// <summary>The tasks credited once the job is complete (none before, or when it failed).</summary>
    public IEnumerable<JobTask> Credited(IEnumerable<JobTask> tasks) =>
        IsComplete ? tasks.Where(t => t.State == JobTaskState.Completed && !Caught.Contains(t.Contributor) && !Disputed.Contains(t.Contributor)) : [];

    /// <param name="jobId">The job.</param>
    /// <param name="taskCount">Tasks in the plan.</param>
    /// <param name="contributors">The contributors the job runs on.</param>
    /// <param name="tasks">Every task of the job: originals, verifications, tie-breaks, redos.</param>
    /// <param name="sampler">Picks who runs a new tie-break or redo, and names it.</param>
    public static JobVerdict Evaluate(string jobId, int taskCount, IReadOnlyList<string> contributors, IReadOnlyList<JobTask> tasks, VerificationSampler sampler)
    {
        var caught = new HashSet<string>(tasks.Where(t => t.State == JobTaskState.Invalid).Select(t => t.Contributor), StringComparer.Ordinal);
        var disputed = new HashSet<string>(StringComparer.Ordinal);
        var originals = tasks.Where(t => t.Role == TaskRole.Original).ToDictionary(t => t.Index);
        var verifications = tasks.Where(t => t.Role == TaskRole.Verification).ToDictionary(t => t.Index);
        var tieBreaks = tasks.Where(t => t.Role == TaskRole.TieBreak).ToDictionary(t => t.Index);
        var redos = tasks.Where(t => t.Role == TaskRole.Redo).ToLookup(t => t.Index);
        if (tasks.FirstOrDefault(t => t.State == JobTaskState.Failed) is { } failed)
        {
            return new JobVerdict([], caught, disputed, [], $"task {failed.Id} ({failed.Contributor}) failed: {failed.Problem}", null);
        }

        // Pass 1: what the finished results decide, and who they catch.
        var decisions = new Dictionary<int, CheckDecision>();
        var needTieBreak = new List<int>();
        foreach (var (index, verification) in verifications.OrderBy(v => v.Key))
        {
            var original = originals[index];
            tieBreaks.TryGetValue(index, out var tieBreak);
            CheckDecision decision;
            if (!original.IsFinished || !verification.IsFinished)
            {
                decision = CheckDecision.Pending;
            }
            else if (original.State == JobTaskState.Invalid || verification.State == JobTaskState.Invalid)
            {
                decision = original.State == JobTaskState.Invalid
                    ? verification.State == JobTaskState.Invalid ? CheckDecision.Disputed : CheckDecision.VerificationUpheld
                    : CheckDecision.OriginalUpheld;
            }
            else if (original.Result == verification.Result)
            {
                decision = CheckDecision.Agreed;
            }
            else if (tieBreak is null)
            {
                decision = CheckDecision.Pending;
                needTieBreak.Add(index);
            }
            else if (!tieBreak.IsFinished)
            {
                decision = CheckDecision.Pending;
            }
            else if (tieBreak.State == JobTaskState.Invalid)
            {
                decision = CheckDecision.Disputed;
                disputed.UnionWith([original.Contributor, verification.Contributor]);
            }
            else if (tieBreak.Result == original.Result)
            {
                decision = CheckDecision.OriginalUpheld;
                caught.Add(verification.Contributor);
            }
            else if (tieBreak.Result == verification.Result)
            {
                decision = CheckDecision.VerificationUpheld;
                caught.Add(original.Contributor);
            }
            else
            {
                return new JobVerdict([], caught, disputed, [], $"task {original.Id}: the original ({original.Contributor}), its verification ({verification.Contributor}) and the tie-break ({tieBreak.Contributor}) all differ", null);
            }

            decisions[index] = decision;
        }

        // Pass 2: tie-breaks for disagreements, by a third contributor (an honest one when there is one).
        var added = new List<JobTask>();
        foreach (var index in needTieBreak)
        {
            var pair = new[] { originals[index].Contributor, verifications[index].Contributor };
            var others = contributors.Except(pair, StringComparer.Ordinal).ToList();
            var honest = others.Where(c => !caught.Contains(c) && !disputed.Contains(c)).ToList();
            if (others.Count == 0)
            {
                decisions[index] = CheckDecision.Disputed;
                disputed.UnionWith(pair);
                continue;
            }

            var tieBreaker = sampler.Pick(jobId, TaskRole.TieBreak, index, honest.Count > 0 ? honest : others);
            added.Add(new JobTask(sampler.TaskId(jobId, TaskRole.TieBreak, index, tieBreaker), TaskRole.TieBreak, index, tieBreaker, JobTaskState.Pending));
        }

        // Pass 3: each task's settled result, or a redo where no honest contributor vouches for one.
        bool Honest(string contributor) => !caught.Contains(contributor) && !disputed.Contains(contributor);
        var results = new List<FinalResult>();
        var settled = true;
        for (var index = 0; index < taskCount; index++)
        {
            if (!originals.TryGetValue(index, out var original))
            {
                settled = false;
                continue;
            }

            string? upheld;
            if (decisions.TryGetValue(index, out var decision))
            {
                verifications.TryGetValue(index, out var verification);
                upheld = decision switch
                {
                    CheckDecision.Pending => null,
                    CheckDecision.Agreed or CheckDecision.OriginalUpheld => original.Result,
                    CheckDecision.VerificationUpheld => verification?.Result,
                    _ => string.Empty,
                };
                if (upheld is null)
                {
                    settled = false;
                    continue;
                }
            }
            else if (!original.IsFinished)
            {
                settled = false;
                continue;
            }
            else
            {
                upheld = original.State == JobTaskState.Completed ? original.Result : string.Empty;
            }

            // The first honest contributor that produced the upheld result vouches for it.
            var voucher = upheld is { Length: > 0 }
                ? new[] { original, verifications.GetValueOrDefault(index), tieBreaks.GetValueOrDefault(index) }
                    .FirstOrDefault(t => t is { State: JobTaskState.Completed } && t.Result == upheld && Honest(t.Contributor))
                : null;
            voucher ??= redos[index].FirstOrDefault(r => r.State == JobTaskState.Completed && Honest(r.Contributor));
            if (voucher is not null)
            {
                results.Add(new FinalResult(index, voucher.Id, voucher.Contributor, voucher.Result ?? string.Empty));
                continue;
            }

            settled = false;
            if (redos[index].Any(r => !r.IsFinished && Honest(r.Contributor)))
            {
                continue;
            }

            var used = redos[index].Select(r => r.Contributor).Append(original.Contributor);
            var candidates = contributors.Where(Honest).Except(used, StringComparer.Ordinal).ToList();
            if (candidates.Count == 0)
            {
                return new JobVerdict([], caught, disputed, Checks(), $"task {original.Id}: no honest contributor is left to redo it", null);
            }

            var redoer = sampler.Pick(jobId, TaskRole.Redo, index, candidates);
            added.Add(new JobTask(sampler.TaskId(jobId, TaskRole.Redo, index, redoer), TaskRole.Redo, index, redoer, JobTaskState.Pending));
        }

        var complete = settled && added.Count == 0 && tasks.All(t => t.IsFinished);
        return new JobVerdict(added, caught, disputed, Checks(), null, complete ? results : null);

        List<VerificationCheck> Checks() =>
        [
            .. verifications.OrderBy(v => v.Key).Select(v => new VerificationCheck(
                v.Key, originals[v.Key].Id, originals[v.Key].Contributor, v.Value.Id, v.Value.Contributor,
                decisions.GetValueOrDefault(v.Key, CheckDecision.Pending),
                tieBreaks.GetValueOrDefault(v.Key)?.Id, tieBreaks.GetValueOrDefault(v.Key)?.Contributor)),
        ];
    }
}
