using System.Text.Json;
using System.Text.Json.Nodes;
using Btmc.Compute.Jobs;
using Btmc.Functions.Host;
using Btmc.Functions.Partners;
using Btmc.Ledger;
using Microsoft.AspNetCore.StaticFiles;

namespace Btmc.Functions.Compute;

/// <summary>
/// Compute jobs (docs/compute-jobs.md): a partner submits a job; anyone reads its progress, results, verification
/// and credits, and the files its tasks left (rendered frames). Thin: read the request, call the job service, map the
/// result. In Azure the <c>AdvanceComputeJobs</c> timer function drives jobs forward; embedded, a background service does.
/// </summary>
public static class JobEndpoints
{
    /// <summary>
    /// The timer function (every 30 s) that advances unfinished jobs in Azure: reads finished tasks from the pool,
    /// checks and settles their results, submits tie-breaks and redos, and credits completed jobs. A pass with errors
    /// fails the invocation (500), naming the jobs; they are taken up again on the next run.
    /// </summary>
    public static readonly TriggerFunction AdvanceSchedule = new(new JsonObject
    {
        ["type"] = "timerTrigger",
        ["direction"] = "in",
        ["name"] = "timer",
        ["schedule"] = "*/30 * * * * *",
        ["runOnStartup"] = false,
        ["useMonitor"] = true,
    });

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/compute/jobs", SubmitAsync).WithName(FunctionNames.SubmitComputeJob).RequireCaller(PartnerRoles.Partner);
        app.MapGet("/api/compute/jobs/{id}", GetAsync).WithName(FunctionNames.GetComputeJob).RequireCaller();
        app.MapGet("/api/compute/jobs/{id}/tasks/{taskId}/files/{*path}", GetFileAsync).WithName(FunctionNames.GetComputeTaskFile).RequireCaller();
        app.MapPost("/" + FunctionNames.AdvanceComputeJobs, AdvanceOnScheduleAsync).WithName(FunctionNames.AdvanceComputeJobs).WithMetadata(AdvanceSchedule);
    }

    private static async Task<IResult> SubmitAsync(HttpContext context, ComputeJobService jobs, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException ex)
        {
            throw Refused.Invalid("body", $"The body is not JSON: {ex.Message}");
        }

        using (document)
        {
            var request = JobRequest.FromJson(document.RootElement, PartnerAuthentication.CallerOf(context).PartnerId);
            var (status, created) = await jobs.SubmitAsync(request, cancellationToken);
            return Results.Json(View(status), statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK)
                .WithLocation($"/api/compute/jobs/{status.Id}");
        }
    }

    /// <summary>A partner sees its own jobs; auditors and operators see every job. Another partner's job is absent.</summary>
    private static async Task<IResult> GetAsync(string id, HttpContext context, ComputeJobService jobs, CancellationToken cancellationToken) =>
        await jobs.GetAsync(id, cancellationToken) is { } status && MaySee(context, status)
            ? Results.Json(View(status))
            : Problems.NotFound($"There is no compute job {id}.");

    private static async Task<IResult> GetFileAsync(string id, string taskId, string path, HttpContext context, ComputeJobService jobs, CancellationToken cancellationToken)
    {
        if (await jobs.GetAsync(id, cancellationToken) is not { } status || !MaySee(context, status))
        {
            return Problems.NotFound($"There is no compute job {id}.");
        }

        path = Uri.UnescapeDataString(path);
        var bytes = await jobs.ReadTaskFileAsync(id, taskId, path, cancellationToken);
        if (bytes is null)
        {
            return Problems.NotFound($"Task {taskId} of compute job {id} has no file {path} (or does not show it while the job runs).");
        }

        return Results.Bytes(bytes, ContentTypes.TryGetContentType(path, out var type) ? type : "application/octet-stream");
    }

    private static async Task<IResult> AdvanceOnScheduleAsync(HttpRequest request, ComputeJobService jobs, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(FunctionNames.AdvanceComputeJobs);
        using (await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken))
        {
            // The TimerInfo carries nothing a pass needs: a late run advances the same way.
        }

        var summary = await jobs.AdvanceAsync(cancellationToken);
        var line = $"{summary.Active} unfinished compute jobs advanced, {summary.Finished} finished, {summary.Errors.Count} failed";
        if (summary.Errors.Count == 0)
        {
            logger.LogInformation("{Function}: {Summary}", FunctionNames.AdvanceComputeJobs, line);
            return InvocationResult.Completed([line]);
        }

        foreach (var (jobId, error) in summary.Errors)
        {
            logger.LogError(error, "{Function}: job {JobId} failed to advance", FunctionNames.AdvanceComputeJobs, jobId);
        }

        return Problems.Of(StatusCodes.Status500InternalServerError, "Compute jobs not advanced",
            $"{line}: {string.Join("; ", summary.Errors.Select(e => $"{e.JobId}: {e.Error.Message}"))}");
    }

    private static bool MaySee(HttpContext context, ComputeJobStatus status)
    {
        var caller = PartnerAuthentication.CallerOf(context);
        return caller.SeesEverything || string.Equals(status.Request.Owner, caller.PartnerId, StringComparison.Ordinal);
    }

    /// <summary>The job as JSON (docs/compute-jobs.md, "Status").</summary>
    private static object View(ComputeJobStatus status)
    {
        using var request = JsonDocument.Parse(status.Request.CanonicalJson());
        return new
        {
            id = status.Id,
            kind = status.Request.KindName,
            state = status.State,
            owner = status.Request.Owner,
            created = status.Created,
            finished = status.Finished,
            request = request.RootElement.Clone(),
            tasks = new { done = status.TasksDone, total = status.TasksTotal, planned = status.PlannedTasks },
            contributors = status.Contributors,
            verification = new
            {
                sampleRate = status.SampleRate,
                caught = status.Caught,
                disputed = status.Disputed,
                checks = status.Checks?.Select(c => new
                {
                    task = c.Task,
                    contributor = c.Contributor,
                    verificationTask = c.VerificationTask,
                    verifier = c.Verifier,
                    decision = JsonNamingPolicy.KebabCaseLower.ConvertName(c.Decision.ToString()),
                    tieBreakTask = c.TieBreakTask,
                    tieBreaker = c.TieBreaker,
                }),
            },
            credits = status.Credits is null ? null : new
            {
                epoch = status.Epoch,
                verifiedAt = status.VerifiedAt,
                contributors = status.Credits.Select(c => new { contributor = c.Contributor, tasks = c.Tasks, work = c.Work }),
            },
            results = status.Results switch
            {
                HashRangeResults hashing => (object)new { hashes = hashing.Hashes, found = hashing.Found },
                DigestResults digest => new { digests = digest.Digests.Select(d => new { file = d.File, sha256 = d.Sha256, bytes = d.Bytes, task = d.Task }) },
                RenderResults render => new
                {
                    frames = render.Frames.Select(f => new
                    {
                        frame = f.Frame,
                        task = f.Task,
                        file = f.File,
                        sha256 = f.Sha256,
                        url = $"/api/compute/jobs/{status.Id}/tasks/{f.Task}/files/{f.File}",
                    }),
                },
                _ => null,
            },
            failure = status.Failure,
        };
    }
}
