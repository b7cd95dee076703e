using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Btmc.Ledger;
using Btmc.Platform.Compute;
using Btmc.Platform.Tables;

namespace Btmc.Compute.Jobs;

/// <summary>The outcome of one <see cref="ComputeJobService.AdvanceAsync"/> pass.</summary>
/// <param name="Active">Unfinished jobs looked at.</param>
/// <param name="Finished">Jobs that completed or failed in this pass.</param>
/// <param name="Errors">Jobs whose advance threw (left for the next pass), with the error.</param>
public sealed record AdvanceSummary(int Active, int Finished, IReadOnlyList<(string JobId, Exception Error)> Errors);

/// <summary>
/// Compute jobs (docs/compute-jobs.md): splits a request into tasks, assigns them round-robin to contributors, has a
/// secretly sampled share re-executed by other contributors, dispatches everything through the pool port, reads and
/// checks the results, settles disagreements, and credits the work of honest contributors in <c>taskcredits</c>.
/// </summary>
/// <remarks>
/// <para>Storage (<c>computejobs</c>): PK job id with rows <c>job</c> (state, owner, times), <c>spec-NNNN</c> (the
/// canonical request and the job's contributors, JSON in ≤ 30,000-character pieces) and <c>task-&lt;id&gt;</c> (role,
/// plan index, contributor, state, checked result, work); PK <c>active</c> holds one row per unfinished job. The secret
/// is in <c>computesettings</c> (PK "settings", RK "jobs").</para>
/// <para>Every write is idempotent: the job id is the request's hash, rows are upserted with values that follow from
/// the request, the secret and the tasks' results, the pool's submit ignores tasks it has, and credits are upserted
/// under keys fixed by the job's verification time, which is stored before the first credit is written. So a pass
/// interrupted anywhere is completed by the next one, on this instance or another.</para>
/// </remarks>
public sealed class ComputeJobService
{
    public const string ActivePartition = "active";
    public const string SettingsPartition = "settings";
    public const string SecretRowKey = "jobs";
    public const string SecretProperty = "Secret";

    private const string JobRowKey = "job";
    private const string SpecRowPrefix = "spec-";
    private const string TaskRowPrefix = "task-";

    /// <summary>An active row without its job row older than this is a submission that never finished: dropped.</summary>
    private static readonly TimeSpan AbandonedSubmission = TimeSpan.FromMinutes(10);

    private readonly ComputeTables _tables;
    private readonly IComputePool _pool;
    private readonly ComputeOptions _options;
    private readonly TimeProvider _time;
    private readonly JobInputs _inputs;
    private readonly SemaphoreSlim _advancing = new(1, 1);
    private VerificationSampler? _sampler;

    /// <param name="tables">The compute tables jobs and credits are kept in.</param>
    /// <param name="pool">Where tasks run.</param>
    /// <param name="options">Task sizes, verification sampling, epochs.</param>
    /// <param name="inputs">Where input files may come from; nothing else is read.</param>
    /// <param name="time">The clock; the system clock when null.</param>
    public ComputeJobService(ComputeTables tables, IComputePool pool, ComputeOptions options, JobInputs inputs, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _tables = tables;
        _pool = pool;
        _options = options;
        _time = time ?? TimeProvider.System;
        _inputs = inputs;
    }

    /// <summary>The pool tasks run on.</summary>
    public IComputePool Pool => _pool;

    private VerificationSampler Sampler => _sampler ?? throw new InvalidOperationException("Call StartAsync first.");

    /// <summary>Creates the tables and reads the job secret, creating it (32 random bytes) the first time.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _tables.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        var row = await _tables.Settings.GetEntityIfExistsAsync(SettingsPartition, SecretRowKey, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            var created = new TableEntity(SettingsPartition, SecretRowKey, new Dictionary<string, object>
            {
                [SecretProperty] = RandomNumberGenerator.GetBytes(VerificationSampler.SecretSizeInBytes),
            });
            try
            {
                await _tables.Settings.AddEntityAsync(created, cancellationToken).ConfigureAwait(false);
                row = created;
            }
            catch (TableStoreException ex) when (ex.Status == 409)
            {
                // Another instance created it first: use theirs.
                row = await _tables.Settings.GetEntityIfExistsAsync(SettingsPartition, SecretRowKey, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("The job secret vanished after a conflicting insert.");
            }
        }

        _sampler = new VerificationSampler(row.GetBinary(SecretProperty));
    }

    /// <summary>
    /// Accepts a job: the same request (same canonical form) is the same job, returned as it stands with
    /// <c>Created</c> false. Otherwise the tasks and the sampled re-executions are written, then the job row, and
    /// everything is submitted to the pool.
    /// </summary>
    /// <exception cref="Refused">The request is invalid, names an input outside <see cref="JobInputs"/> (forbidden) or
    /// a file there that does not exist, or there are too few registered contributors, or an unregistered one (conflict).</exception>
    public async Task<(ComputeJobStatus Status, bool Created)> SubmitAsync(JobRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        CheckSources(request);
        var sampler = Sampler;
        var jobId = request.JobId;
        if (await GetAsync(jobId, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return (existing, false);
        }

        var contributors = await ResolveContributorsAsync(request, cancellationToken).ConfigureAwait(false);
        var tasks = new List<JobTask>();
        for (var index = 0; index < request.TaskCount; index++)
        {
            tasks.Add(new JobTask(JobPlanner.TaskId(index), TaskRole.Original, index, contributors[index % contributors.Count], JobTaskState.Pending));
        }

        foreach (var index in sampler.Sample(jobId, request.TaskCount, _options.VerifySampleRate))
        {
            var verifier = sampler.Pick(jobId, TaskRole.Verification, index, contributors.Where(c => c != tasks[index].Contributor));
            tasks.Add(new JobTask(sampler.TaskId(jobId, TaskRole.Verification, index, verifier), TaskRole.Verification, index, verifier, JobTaskState.Pending));
        }

        var now = _time.GetUtcNow();
        await WriteSpecAsync(jobId, request, contributors, cancellationToken).ConfigureAwait(false);
        await WriteTasksAsync(jobId, tasks, cancellationToken).ConfigureAwait(false);
        await _tables.Jobs.UpsertEntityAsync(new TableEntity(ActivePartition, jobId, new Dictionary<string, object> { ["Created"] = now }), cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            // The commit point: from here on the job exists, and the advance finishes whatever is left.
            await _tables.Jobs.AddEntityAsync(new TableEntity(jobId, JobRowKey, new Dictionary<string, object>
            {
                ["Kind"] = request.KindName,
                ["Owner"] = request.Owner,
                ["State"] = JobStates.Running,
                ["Created"] = now,
                ["Tasks"] = request.TaskCount,
            }), cancellationToken).ConfigureAwait(false);
        }
        catch (TableStoreException ex) when (ex.Status == 409)
        {
            return (await GetAsync(jobId, cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException($"Job {jobId} vanished."), false);
        }

        await _pool.SubmitAsync(jobId, [.. tasks.Select(t => PoolTask(request, t))], cancellationToken).ConfigureAwait(false);
        return (await GetAsync(jobId, cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException($"Job {jobId} vanished."), true);
    }

    /// <summary>The job as it stands, or null when there is none.</summary>
    public async Task<ComputeJobStatus?> GetAsync(string jobId, CancellationToken cancellationToken = default)
    {
        if (!IsJobId(jobId))
        {
            return null;
        }

        var job = await LoadAsync(jobId, cancellationToken).ConfigureAwait(false);
        return job is null ? null : Describe(job, Evaluate(job));
    }

    /// <summary>
    /// A file a task of the job left (<c>stdout.txt</c>, <c>stderr.txt</c>, <c>out/…</c>), or null. While the job runs
    /// only its planned tasks' files are served: the other tasks' ids would tell which tasks are sampled.
    /// </summary>
    public async Task<byte[]?> ReadTaskFileAsync(string jobId, string taskId, string path, CancellationToken cancellationToken = default)
    {
        if (!IsJobId(jobId) || !IsTaskId(taskId))
        {
            return null;
        }

        var job = await _tables.Jobs.GetEntityIfExistsAsync(jobId, JobRowKey, cancellationToken).ConfigureAwait(false);
        var task = job is null ? null : await _tables.Jobs.GetEntityIfExistsAsync(jobId, TaskRowPrefix + taskId, cancellationToken).ConfigureAwait(false);
        if (job is null || task is null || (job.GetString("State") == JobStates.Running && task.GetString("Role") != nameof(TaskRole.Original)))
        {
            return null;
        }

        return await _pool.ReadTaskFileAsync(jobId, taskId, path, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One pass over the unfinished jobs: tasks the pool does not know are submitted (again), finished ones have their
    /// results read and checked, the verdict adds tie-breaks and redos, and a settled job is credited and closed (a
    /// failed one terminated). Passes do not overlap within a process; across processes every step is idempotent.
    /// </summary>
    public async Task<AdvanceSummary> AdvanceAsync(CancellationToken cancellationToken = default)
    {
        _ = Sampler;
        await _advancing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var active = await QueryAllAsync(ActivePartition, cancellationToken).ConfigureAwait(false);
            var finished = 0;
            var errors = new List<(string, Exception)>();
            foreach (var row in active)
            {
                try
                {
                    if (await AdvanceJobAsync(row, cancellationToken).ConfigureAwait(false))
                    {
                        finished++;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    errors.Add((row.RowKey, ex));
                }
            }

            return new AdvanceSummary(active.Count, finished, errors);
        }
        finally
        {
            _advancing.Release();
        }
    }

    private async Task<bool> AdvanceJobAsync(TableEntity activeRow, CancellationToken cancellationToken)
    {
        var jobId = activeRow.RowKey;
        var job = await LoadAsync(jobId, cancellationToken).ConfigureAwait(false);
        if (job is null)
        {
            var created = activeRow.Properties.TryGetValue("Created", out var value) && value is DateTimeOffset time ? time : DateTimeOffset.MinValue;
            if (_time.GetUtcNow() - created > AbandonedSubmission)
            {
                await _tables.Jobs.DeleteEntityAsync(ActivePartition, jobId, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            return false;
        }

        if (job.State != JobStates.Running)
        {
            await _tables.Jobs.DeleteEntityAsync(ActivePartition, jobId, cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }

        var inPool = (await _pool.GetTasksAsync(jobId, cancellationToken).ConfigureAwait(false)).ToDictionary(s => s.Id, StringComparer.Ordinal);
        var unknown = job.Tasks.Where(t => !t.IsFinished && !inPool.ContainsKey(t.Id)).Select(t => PoolTask(job.Request, t)).ToList();
        if (unknown.Count > 0)
        {
            await _pool.SubmitAsync(jobId, unknown, cancellationToken).ConfigureAwait(false);
        }

        var changed = new List<JobTask>();
        foreach (var task in job.Tasks.Where(t => !t.IsFinished))
        {
            if (!inPool.TryGetValue(task.Id, out var status))
            {
                continue;
            }

            if (status.State == ComputeTaskState.Completed)
            {
                changed.Add(await ReadResultAsync(jobId, job.Request, task, cancellationToken).ConfigureAwait(false));
            }
            else if (status.State == ComputeTaskState.Failed)
            {
                changed.Add(task with { State = JobTaskState.Failed, Problem = Truncate(status.FailureMessage ?? $"exit code {status.ExitCode}") });
            }
        }

        if (changed.Count > 0)
        {
            await WriteTasksAsync(jobId, changed, cancellationToken).ConfigureAwait(false);
            var byId = changed.ToDictionary(t => t.Id, StringComparer.Ordinal);
            job = job with { Tasks = [.. job.Tasks.Select(t => byId.GetValueOrDefault(t.Id) ?? t)] };
        }

        var verdict = Evaluate(job);
        if (verdict.NewTasks.Count > 0)
        {
            await WriteTasksAsync(jobId, verdict.NewTasks, cancellationToken).ConfigureAwait(false);
            await _pool.SubmitAsync(jobId, [.. verdict.NewTasks.Select(t => PoolTask(job.Request, t))], cancellationToken).ConfigureAwait(false);
            return false;
        }

        if (verdict.Failure is { } failure)
        {
            await _pool.TerminateAsync(jobId, cancellationToken).ConfigureAwait(false);
            await UpdateJobAsync(job, new() { ["State"] = JobStates.Failed, ["Failure"] = Truncate(failure), ["Finished"] = _time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
            await _tables.Jobs.DeleteEntityAsync(ActivePartition, jobId, cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }

        if (!verdict.IsComplete)
        {
            return false;
        }

        // The verification time fixes the credits' epoch and keys: stored first, so a retried pass writes the same rows.
        if (job.VerifiedAt is null)
        {
            var verifiedAt = _time.GetUtcNow();
            job = await UpdateJobAsync(job, new() { ["VerifiedAt"] = verifiedAt }, cancellationToken).ConfigureAwait(false) with { VerifiedAt = verifiedAt };
        }

        var at = job.VerifiedAt.Value;
        var epoch = ComputeTables.EpochKey(_options.EpochOf(at));
        var credits = verdict.Credited(job.Tasks).OrderBy(t => t.Contributor, StringComparer.Ordinal)
            .Select(t => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                new TableEntity(t.Contributor, $"{epoch}:{jobId}:{t.Id}", new Dictionary<string, object> { ["Work"] = t.Work, ["VerifiedAt"] = at })))
            .ToList();
        await TableTransactions.SubmitAsync(_tables.TaskCredits, credits, cancellationToken).ConfigureAwait(false);

        await UpdateJobAsync(job, new() { ["State"] = JobStates.Completed, ["Finished"] = _time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
        await _tables.Jobs.DeleteEntityAsync(ActivePartition, jobId, cancellationToken: cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<JobTask> ReadResultAsync(string jobId, JobRequest request, JobTask task, CancellationToken cancellationToken)
    {
        var stdout = await _pool.ReadTaskFileAsync(jobId, task.Id, ComputeTaskFiles.Stdout, cancellationToken).ConfigureAwait(false);
        try
        {
            var result = await TaskResults.CheckAsync(request, task.Index, stdout,
                (path, ct) => _pool.ReadTaskFileAsync(jobId, task.Id, path, ct), _options.RenderFrameWork, cancellationToken).ConfigureAwait(false);
            return task with { State = JobTaskState.Completed, Result = result.Canonical, Work = result.Work };
        }
        catch (FormatException ex)
        {
            return task with { State = JobTaskState.Invalid, Problem = Truncate(ex.Message) };
        }
    }

    private JobVerdict Evaluate(StoredJob job) =>
        JobVerdict.Evaluate(job.Id, job.Request.TaskCount, job.Contributors, job.Tasks, Sampler);

    private ComputeJobStatus Describe(StoredJob job, JobVerdict verdict)
    {
        var finished = job.State != JobStates.Running;
        var completed = job.State == JobStates.Completed;
        IReadOnlyList<ContributorCredit>? credits = completed
            ? [.. verdict.Credited(job.Tasks).GroupBy(t => t.Contributor, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new ContributorCredit(g.Key, g.Count(), g.Sum(t => t.Work)))]
            : null;
        return new ComputeJobStatus(
            job.Id,
            job.Request,
            job.State,
            job.Created,
            job.Finished,
            job.Request.TaskCount,
            job.Tasks.Count(t => t.IsFinished),
            job.Tasks.Count,
            job.Contributors,
            _options.VerifySampleRate,
            [.. verdict.Caught.Order(StringComparer.Ordinal)],
            [.. verdict.Disputed.Order(StringComparer.Ordinal)],
            finished ? verdict.Checks : null,
            credits,
            completed && job.VerifiedAt is { } verified ? _options.EpochOf(verified) : null,
            job.VerifiedAt,
            completed && verdict.Results is { } results ? Results(job.Request, results) : null,
            job.Failure);
    }

    private static JobResults Results(JobRequest request, IReadOnlyList<FinalResult> results)
    {
        switch (request)
        {
            case HashRangeRequest hashing:
                return new HashRangeResults(hashing.Count, [.. results.SelectMany(r => WorkerOutput.ParseHashRange(r.Result).Found)]);
            case DigestRequest digest:
                var digests = new List<DigestResult>();
                foreach (var result in results)
                {
                    var (first, _) = JobPlanner.FileGroup(digest, result.Index);
                    digests.AddRange(WorkerOutput.ParseDigest(result.Result).Digests.Select((d, i) => new DigestResult(digest.Files[first + i], d.Sha256, d.Bytes, result.Task)));
                }

                return new DigestResults(digests);
            case RenderRequest:
                return new RenderResults([.. results.SelectMany(r => WorkerOutput.ParseRender(r.Result).Frames.Select(f => new FrameResult(f.Frame, r.Task, f.File, f.Sha256)))]);
            default:
                throw new ArgumentException($"Unknown request type {request.GetType().Name}.", nameof(request));
        }
    }

    /// <summary>Every input a request names must be one <see cref="JobInputs"/> allows.</summary>
    private void CheckSources(JobRequest request)
    {
        IEnumerable<(string Field, string Source)> sources = request switch
        {
            DigestRequest digest => digest.Files.Select((f, i) => ($"files[{i}]", f)),
            RenderRequest render => [("scene", render.Scene)],
            _ => [],
        };
        foreach (var (field, source) in sources)
        {
            _inputs.Check(field, source);
        }
    }

    /// <summary>The request's contributors, each registered, or every registered one; at least two, ordinal order.</summary>
    private async Task<IReadOnlyList<string>> ResolveContributorsAsync(JobRequest request, CancellationToken cancellationToken)
    {
        var registered = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in _tables.Contributors.QueryAllAsync(new TableQuery(ComputeTables.ContributorsPartition, Select: ["ResourceType"]), cancellationToken).ConfigureAwait(false))
        {
            registered.Add(row.RowKey);
        }

        if (request.Contributors is { } named)
        {
            if (named.FirstOrDefault(c => !registered.Contains(c)) is { } unknown)
            {
                throw Refused.Conflict("contributors", $"'{unknown}' is not a registered contributor.");
            }

            return [.. named.Order(StringComparer.Ordinal)];
        }

        if (registered.Count < 2)
        {
            throw Refused.Conflict("contributors", $"{registered.Count} contributors are registered; a job needs at least two (sampled tasks are re-executed by a different one).");
        }

        return [.. registered.Order(StringComparer.Ordinal)];
    }

    private static ComputeTask PoolTask(JobRequest request, JobTask task)
    {
        var planned = JobPlanner.Task(request, task.Index);
        return new ComputeTask(task.Id, task.Contributor, planned.WorkerArguments, planned.InputFiles);
    }

    private async Task WriteSpecAsync(string jobId, JobRequest request, IReadOnlyList<string> contributors, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("request");
            writer.WriteRawValue(request.CanonicalJson());
            writer.WriteStartArray("contributors");
            foreach (var contributor in contributors)
            {
                writer.WriteStringValue(contributor);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        var spec = Encoding.UTF8.GetString(buffer.ToArray());
        await UpsertAsync(LongText.Rows(jobId, SpecRowPrefix, "Text", spec), cancellationToken).ConfigureAwait(false);
    }

    private Task WriteTasksAsync(string jobId, IEnumerable<JobTask> tasks, CancellationToken cancellationToken) =>
        UpsertAsync(tasks.Select(t =>
        {
            var properties = new Dictionary<string, object>
            {
                ["Role"] = t.Role.ToString(),
                ["Index"] = t.Index,
                ["Contributor"] = t.Contributor,
                ["State"] = t.State.ToString(),
                ["Work"] = t.Work,
            };
            if (t.Result is not null)
            {
                LongText.Put(properties, "Result", t.Result);
            }

            if (t.Problem is not null)
            {
                properties["Problem"] = t.Problem;
            }

            return new TableEntity(jobId, TaskRowPrefix + t.Id, properties);
        }), cancellationToken);

    private Task UpsertAsync(IEnumerable<TableEntity> rows, CancellationToken cancellationToken) =>
        TableTransactions.SubmitAsync(_tables.Jobs, [.. rows.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r))], cancellationToken);

    /// <summary>Merges changes into the job row if nobody changed it since it was read (412 otherwise: the next pass
    /// starts over); returns the job with the new ETag.</summary>
    private async Task<StoredJob> UpdateJobAsync(StoredJob job, Dictionary<string, object> changes, CancellationToken cancellationToken) =>
        job with { ETag = await _tables.Jobs.UpdateEntityAsync(new TableEntity(job.Id, JobRowKey, changes), job.ETag, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false) };

    private async Task<StoredJob?> LoadAsync(string jobId, CancellationToken cancellationToken)
    {
        var rows = await QueryAllAsync(jobId, cancellationToken).ConfigureAwait(false);
        var job = rows.FirstOrDefault(r => r.RowKey == JobRowKey);
        if (job is null)
        {
            return null;
        }

        var spec = LongText.Join(rows, SpecRowPrefix, "Text");
        using var document = JsonDocument.Parse(spec);
        var request = JobRequest.FromJson(document.RootElement.GetProperty("request"), job.GetString("Owner"));
        if (request.JobId != jobId)
        {
            throw new InvalidDataException($"The stored request of job {jobId} hashes to {request.JobId}.");
        }

        var contributors = document.RootElement.GetProperty("contributors").EnumerateArray().Select(c => c.GetString() ?? string.Empty).ToList();
        var tasks = rows.Where(r => r.RowKey.StartsWith(TaskRowPrefix, StringComparison.Ordinal)).Select(r => new JobTask(
            r.RowKey[TaskRowPrefix.Length..],
            Enum.Parse<TaskRole>(r.GetString("Role")),
            (int)r.GetInt64("Index"),
            r.GetString("Contributor"),
            Enum.Parse<JobTaskState>(r.GetString("State")),
            LongText.Get(r, "Result"),
            r.GetInt64("Work"),
            r.Properties.TryGetValue("Problem", out var problem) ? (string)problem : null)).ToList();
        return new StoredJob(
            jobId,
            job.ETag ?? "*",
            request,
            contributors,
            tasks,
            job.GetString("State"),
            (DateTimeOffset)job.Properties["Created"],
            job.Properties.TryGetValue("Finished", out var finished) ? (DateTimeOffset)finished : null,
            job.Properties.TryGetValue("VerifiedAt", out var verifiedAt) ? (DateTimeOffset)verifiedAt : null,
            job.Properties.TryGetValue("Failure", out var failure) ? (string)failure : null);
    }

    private Task<List<TableEntity>> QueryAllAsync(string partitionKey, CancellationToken cancellationToken) =>
        _tables.Jobs.QueryListAsync(new TableQuery(partitionKey), cancellationToken);

    private static string Truncate(string text) => text.Length <= 2000 ? text : text[..2000];

    private static bool IsJobId(string id) => id.Length == 64 && id.All(char.IsAsciiHexDigitLower);

    private static bool IsTaskId(string id) => ComputeTaskFiles.IsValidId(id);

    private sealed record StoredJob(
        string Id,
        string ETag,
        JobRequest Request,
        IReadOnlyList<string> Contributors,
        IReadOnlyList<JobTask> Tasks,
        string State,
        DateTimeOffset Created,
        DateTimeOffset? Finished,
        DateTimeOffset? VerifiedAt,
        string? Failure);
}
