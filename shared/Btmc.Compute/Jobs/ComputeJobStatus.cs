namespace Btmc.Compute.Jobs;

/// <summary>Where a job stands in its own records.</summary>
public static class JobStates
{
    /// <summary>Tasks are running, or results are being checked.</summary>
    public const string Running = "running";

    /// <summary>Every result settled; contributors credited.</summary>
    public const string Completed = "completed";

    /// <summary>A task failed, or a check could not be settled; nobody credited.</summary>
    public const string Failed = "failed";
}

/// <summary>A job as <c>GET /api/compute/jobs/{id}</c> shows it (docs/compute-jobs.md, "Status").</summary>
/// <param name="Id">SHA-256 of the canonical request.</param>
/// <param name="Request">The request as accepted (its canonical form).</param>
/// <param name="State">One of <see cref="JobStates"/>.</param>
/// <param name="TasksDone">Tasks finished, of <paramref name="TasksTotal"/>: the plan's, plus the verification
/// re-executions, tie-breaks and redos so far (their ids and which tasks they check stay hidden until the job ends).</param>
/// <param name="Caught">Contributors whose result was proven wrong: not credited for any task of the job.</param>
/// <param name="Disputed">Contributors in a disagreement no third contributor could settle: not credited either.</param>
/// <param name="Checks">Each sampled task's check; null while the job runs, so that the sample stays secret.</param>
/// <param name="Credits">Work credited per contributor, once completed.</param>
/// <param name="Epoch">The reward epoch the credits count in (<see cref="ComputeOptions.EpochOf"/> of <paramref name="VerifiedAt"/>).</param>
/// <param name="Results">The settled results, once completed.</param>
/// <param name="Failure">Why the job failed.</param>
public sealed record ComputeJobStatus(
    string Id,
    JobRequest Request,
    string State,
    DateTimeOffset Created,
    DateTimeOffset? Finished,
    int PlannedTasks,
    int TasksDone,
    int TasksTotal,
    IReadOnlyList<string> Contributors,
    double SampleRate,
    IReadOnlyList<string> Caught,
    IReadOnlyList<string> Disputed,
    IReadOnlyList<VerificationCheck>? Checks,
    IReadOnlyList<ContributorCredit>? Credits,
    long? Epoch,
    DateTimeOffset? VerifiedAt,
    JobResults? Results,
    string? Failure);

/// <summary>The work a contributor is credited for a job: the <c>taskcredits</c> rows written for it.</summary>
public sealed record ContributorCredit(string Contributor, int Tasks, long Work);

/// <summary>The settled results of a completed job, by kind.</summary>
public abstract record JobResults;

/// <summary>Every nonce of the range that meets the difficulty, ascending.</summary>
public sealed record HashRangeResults(ulong Hashes, IReadOnlyList<ulong> Found) : JobResults;

/// <summary>One digest per requested file, in request order.</summary>
public sealed record DigestResults(IReadOnlyList<DigestResult> Digests) : JobResults;

/// <summary>A requested file (as named in the request), its SHA-256 and length, and the task that read it.</summary>
public sealed record DigestResult(string File, string Sha256, long Bytes, string Task);

/// <summary>One PNG per requested frame, ascending.</summary>
public sealed record RenderResults(IReadOnlyList<FrameResult> Frames) : JobResults;

/// <summary>A frame: the task whose output it is, the file in that task's outputs (<c>out/frame_0001.png</c>), its SHA-256.</summary>
public sealed record FrameResult(int Frame, string Task, string File, string Sha256);
