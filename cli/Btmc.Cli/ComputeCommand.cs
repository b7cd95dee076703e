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
public static class ComputeCommand
{
    public static async Task<int> RunAsync(CliArguments args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        return args.RequirePositional(0, "compute subcommand (submit or status)") switch
        {
            "submit" => await SubmitAsync(args, output, error, cancellationToken),
            "status" => await StatusAsync(args, output, error, cancellationToken),
            var other => throw new CliUsageException($"unknown compute subcommand '{other}'."),
        };
    }

    private static async Task<int> SubmitAsync(CliArguments args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var body = Request(args);
        var apiKey = CaptureCommand.ApiKeyOf(args, "compute submit");
        using var http = BtmcCli.CreateClient(args.Require("url"));
        http.DefaultRequestHeaders.Add("X-API-Key", apiKey);
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
        if (args.Option("wait") is not "true")
        {
            output.WriteLine(Indented(job));
            return 0;
        }

        return await WaitAsync(http, id, args, output, error, cancellationToken);
    }

    private static async Task<int> StatusAsync(CliArguments args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var id = args.RequirePositional(1, "<job id>");
        using var http = BtmcCli.CreateClient(args.Require("url"));
        if (args.Option("wait") is "true")
        {
            return await WaitAsync(http, id, args, output, error, cancellationToken);
        }

        var (job, status) = await GetAsync(http, id, error, cancellationToken);
        if (job is null)
        {
            return 1;
        }

        output.WriteLine(Indented(job));
        return status == JobStates.Failed ? 1 : 0;
    }

    /// <summary>Polls the job until it leaves "running", drawing tasks done/total; prints it; 0 when completed.</summary>
    private static async Task<int> WaitAsync(HttpClient http, string id, CliArguments args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var poll = TimeSpan.FromMilliseconds(int.TryParse(args.Option("poll-ms"), out var ms) && ms > 0 ? ms : 500);
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

    /// <summary>The request body for the kind named after <c>submit</c>, from the command line's options.</summary>
    private static JsonObject Request(CliArguments args)
    {
        var kind = args.RequirePositional(1, "job kind (hash-range, digest or render)");
        var body = new JsonObject { ["kind"] = kind };
        switch (kind)
        {
            case WorkerOutput.HashRangeKind:
                body["header"] = args.Require("header");
                body["bits"] = Integer(args, "bits");
                body["start"] = args.Option("start") ?? "0";
                body["count"] = args.Require("count");
                if (args.Option("task-size") is { } taskSize)
                {
                    body["taskSize"] = taskSize;
                }

                break;
            case WorkerOutput.DigestKind:
                var files = args.Positional.Skip(2).ToList();
                if (files.Count == 0)
                {
                    throw new CliUsageException("compute submit digest needs at least one <file> (or URL).");
                }

                body["files"] = new JsonArray([.. files.Select(f => (JsonNode)Source(f))]);
                if (args.Option("files-per-task") is not null)
                {
                    body["filesPerTask"] = Integer(args, "files-per-task");
                }

                break;
            case WorkerOutput.RenderKind:
                body["scene"] = Source(args.Require("scene"));
                body["frames"] = args.Require("frames");
                if (args.Option("frames-per-task") is not null)
                {
                    body["framesPerTask"] = Integer(args, "frames-per-task");
                }

                if (args.Option("engine") is { } engine)
                {
                    body["engine"] = engine;
                }

                break;
            default:
                throw new CliUsageException($"unknown job kind '{kind}' (hash-range, digest or render).");
        }

        if (args.Option("contributors") is { } contributors)
        {
            body["contributors"] = new JsonArray([.. contributors.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c => (JsonNode)c)]);
        }

        return body;
    }

    /// <summary>A URL as it is; a local path made absolute (the server reads it, from its own working directory).</summary>
    private static string Source(string source) =>
        Uri.TryCreate(source, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "file" ? source : Path.GetFullPath(source);

    private static int Integer(CliArguments args, string name) =>
        int.TryParse(args.Require(name), out var value) ? value : throw new CliUsageException($"--{name} must be an integer.");

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
