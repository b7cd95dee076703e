using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Btmc.Compute.Jobs;

namespace Btmc.Cli;

/// <summary>
/// <c>btmc compute submit|status</c>: submits a compute job to <c>POST /api/compute/jobs</c> and, with <c>--wait</c>,
/// follows it with a progress bar (tasks done/total on standard error) until it completes or fails; prints the job.
/// </summary>
internal static class ComputeCommand
{
    public static Command Create()
    {
        var submit = new Command("submit", "Submit a compute job and print it; with --wait, a progress bar until it is done, then the job with its results, verification and credits.")
        {
            HashRange(),
            Digest(),
            Render(),
        };
        return new Command("compute", "Compute jobs: submit one, or print one.") { submit, Status() };
    }

    private static Command HashRange()
    {
        var header = WorkerCommand.HeaderOption();
        var bits = WorkerCommand.BitsOption();
        var count = new Option<ulong>("--count") { Required = true, HelpName = "n", Description = "How many nonces." };
        var start = new Option<ulong>("--start") { HelpName = "n", Description = "The first nonce.", DefaultValueFactory = _ => 0 };
        var taskSize = new Option<ulong?>("--task-size") { HelpName = "n", Description = "Nonces per task (default: the backend's, from --bits)." };
        var command = new Command(WorkerOutput.HashRangeKind, "Find the nonces whose share hash has --bits leading zero bits.") { header, bits, count, start, taskSize };
        return Submit(command, (parseResult, body) =>
        {
            body["header"] = Convert.ToHexStringLower(parseResult.GetRequiredValue(header));
            body["bits"] = parseResult.GetValue(bits);

            // 64-bit counts as decimal strings: JSON numbers lose precision past 2^53.
            body["start"] = parseResult.GetValue(start).ToString(CultureInfo.InvariantCulture);
            body["count"] = parseResult.GetValue(count).ToString(CultureInfo.InvariantCulture);
            if (parseResult.GetValue(taskSize) is { } size)
            {
                body["taskSize"] = size.ToString(CultureInfo.InvariantCulture);
            }
        });
    }

    private static Command Digest()
    {
        var files = new Argument<string[]>("file|url") { Arity = ArgumentArity.OneOrMore, Description = "The files to digest: local paths (read by the backend) or URLs." };
        var filesPerTask = new Option<int?>("--files-per-task") { HelpName = "n", Description = "Files per task (default: the backend's)." };
        var command = new Command(WorkerOutput.DigestKind, "The SHA-256 digest of every file.") { files, filesPerTask };
        return Submit(command, (parseResult, body) =>
        {
            body["files"] = new JsonArray([.. parseResult.GetRequiredValue(files).Select(f => (JsonNode)Source(f))]);
            if (parseResult.GetValue(filesPerTask) is { } perTask)
            {
                body["filesPerTask"] = perTask;
            }
        });
    }

    private static Command Render()
    {
        var scene = new Option<string>("--scene") { Required = true, HelpName = "file.blend|url", Description = "The Blender scene: a local path (read by the backend) or a URL." };
        var frames = WorkerCommand.FramesOption();
        var framesPerTask = new Option<int?>("--frames-per-task") { HelpName = "n", Description = "Frames per task (default: the backend's)." };
        var engine = WorkerCommand.EngineOption();
        var command = new Command(WorkerOutput.RenderKind, "Render frames of a Blender scene to PNG.") { scene, frames, framesPerTask, engine };
        return Submit(command, (parseResult, body) =>
        {
            var (first, last) = parseResult.GetRequiredValue(frames);
            body["scene"] = Source(parseResult.GetRequiredValue(scene));
            body["frames"] = FrameRange.Format(first, last);
            if (parseResult.GetValue(framesPerTask) is { } perTask)
            {
                body["framesPerTask"] = perTask;
            }

            if (parseResult.GetValue(engine) is { } name)
            {
                body["engine"] = name;
            }
        });
    }

    /// <summary>Adds what every kind shares (the backend, the partner's key, contributors, --wait) to <paramref name="command"/>,
    /// whose action submits the request <paramref name="fill"/> writes.</summary>
    private static Command Submit(Command command, Action<ParseResult, JsonObject> fill)
    {
        var url = CliOptions.Url();
        var contributors = new Option<string>("--contributors") { HelpName = "a,b,...", Description = "Only these contributors run the job's tasks." };
        var wait = WaitOption();
        var poll = PollOption();
        command.Add(url);
        command.Add(contributors);
        command.Add(wait);
        command.Add(poll);
        _ = new ApiKeyOptions(command, "compute submit");
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            var body = new JsonObject { ["kind"] = command.Name };
            fill(parseResult, body);
            if (parseResult.GetValue(contributors) is { } chosen)
            {
                body["contributors"] = new JsonArray([.. chosen.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c => (JsonNode)c)]);
            }

            // The client sends the key the command was given (required for a submission).
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url), parseResult);
            using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            using var response = await http.PostAsync("api/compute/jobs", content, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
            {
                error.WriteLine($"btmc: {(int)response.StatusCode} {Problem(text)}");
                return 1;
            }

            var job = JsonNode.Parse(text) ?? throw new JsonException("empty answer");
            var id = job["id"]?.GetValue<string>() ?? throw new JsonException("the answer names no job id");
            error.WriteLine($"# job {id} {(response.StatusCode == HttpStatusCode.Created ? "submitted" : "exists already")}: {response.Headers.Location}");
            if (!parseResult.GetValue(wait))
            {
                output.WriteLine(Indented(job));
                return 0;
            }

            return await WaitAsync(http, id, TimeSpan.FromMilliseconds(parseResult.GetValue(poll)), output, error, cancellationToken);
        });
        return command;
    }

    private static Command Status()
    {
        var id = new Argument<string>("id") { Description = "The job's id." };
        var url = CliOptions.Url();
        var wait = WaitOption();
        var poll = PollOption();
        var command = new Command("status", "Print a compute job; exits 1 when it failed.") { id, url, wait, poll };
        ApiKeyOptions.AddOptional(command);
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            var jobId = parseResult.GetRequiredValue(id);
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url), parseResult);
            if (parseResult.GetValue(wait))
            {
                return await WaitAsync(http, jobId, TimeSpan.FromMilliseconds(parseResult.GetValue(poll)), output, error, cancellationToken);
            }

            var (job, status) = await GetAsync(http, jobId, error, cancellationToken);
            if (job is null)
            {
                return 1;
            }

            output.WriteLine(Indented(job));
            return status == JobStates.Failed ? 1 : 0;
        });
        return command;
    }

    private static Option<bool> WaitOption() => CliOptions.Flag("--wait", "Show a progress bar of tasks done (standard error) until the job is done, then print it; exits 1 when it failed.");

    /// <summary>How often <c>--wait</c> asks; hidden, there for tests that should not wait half a second a round.</summary>
    private static Option<int> PollOption() => new Option<int>("--poll-ms") { Hidden = true, DefaultValueFactory = _ => 500 }.AtLeast(1);

    /// <summary>Polls the job until it leaves "running", drawing tasks done/total; prints it; 0 when completed.</summary>
    private static async Task<int> WaitAsync(HttpClient http, string id, TimeSpan poll, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var progress = new ProgressBar(error, 0);
        while (true)
        {
            var (job, state) = await GetAsync(http, id, error, cancellationToken);
            if (job is null)
            {
                progress.Finish();
                return 1;
            }

            progress.Show(job["tasks"]?["done"]?.GetValue<int>() ?? 0, job["tasks"]?["total"]?.GetValue<int>() ?? 0);
            if (state != JobStates.Running)
            {
                progress.Finish();
                output.WriteLine(Indented(job));
                if (job["verification"]?["caught"] is JsonArray { Count: > 0 } caught)
                {
                    error.WriteLine($"# caught: {string.Join(", ", caught.Select(c => c?.GetValue<string>()))}");
                }

                if (state == JobStates.Failed)
                {
                    error.WriteLine($"btmc: job {id} failed: {job["failure"]?.GetValue<string>()}");
                    return 1;
                }

                return 0;
            }

            await Task.Delay(poll, cancellationToken);
        }
    }

    private static async Task<(JsonNode? Job, string? State)> GetAsync(HttpClient http, string id, TextWriter error, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("api/compute/jobs/" + Uri.EscapeDataString(id), cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            error.WriteLine($"btmc: {(int)response.StatusCode} {Problem(text)}");
            return (null, null);
        }

        var job = JsonNode.Parse(text);
        return (job, job?["state"]?.GetValue<string>());
    }

    /// <summary>A URL as it is; a local path made absolute (the server reads it, from its own working directory).</summary>
    private static string Source(string source) =>
        Uri.TryCreate(source, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "file" ? source : Path.GetFullPath(source);

    private static string Problem(string body)
    {
        try
        {
            var problem = JsonNode.Parse(body);
            var field = problem?["field"]?.GetValue<string>();
            return $"{problem?["detail"]?.GetValue<string>() ?? body}{(field is null ? string.Empty : $" ({field})")}";
        }
        catch (JsonException)
        {
            return body;
        }
    }

    private static string Indented(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
