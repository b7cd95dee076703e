using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;

namespace Btmc.Testing;

/// <summary>One request as the loopback Batch account received it; the path is the raw (still escaped) one.</summary>
public sealed record BatchRequest(string Method, string RawPath, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string? Authorization => Headers.GetValueOrDefault("Authorization");

    public string? ContentType => Headers.GetValueOrDefault("Content-Type");

    /// <summary>The decoded value of query parameter <paramref name="name"/>, or null.</summary>
    public string? QueryValue(string name) =>
        QueryHelpers.ParseQuery(Query).TryGetValue(name, out var values) ? values.ToString() : null;

    /// <summary>The body as JSON (null when there is none).</summary>
    public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);
}

/// <summary>
/// A stand-in for an Azure Batch account's data plane on 127.0.0.1 (Kestrel over plain http, port chosen by the OS),
/// answering with the documented shapes of the Batch REST API (api-version 2024-07-01.20.0 or 2025-06-01):
/// <list type="bullet">
/// <item>Add Job <c>POST /jobs</c> → 201, 409 JobExists; Get Job <c>GET /jobs/{id}</c> → 200, 404 JobNotFound;
/// Terminate Job <c>POST /jobs/{id}/terminate</c> → 202 (unfinished tasks end), 409 JobCompleted.</item>
/// <item>Add Task Collection <c>POST /jobs/{id}/addtaskcollection</c> → 200 with one result per task, in reverse order
/// (the service promises no order): success, clienterror TaskExists for an id already in the job (ids are
/// case-insensitive), or a failure scripted in <see cref="TaskAddFailures"/>. More than 100 tasks → 400, recorded in
/// <see cref="Violations"/> (a client must never send that).</item>
/// <item>List Tasks <c>GET /jobs/{id}/tasks</c> with <c>$select</c>, <c>$filter=state eq '..'</c> and <c>maxresults</c>,
/// <see cref="PageSize"/> tasks a page and an absolute <c>odata.nextLink</c>.</item>
/// <item>Get Task File <c>GET /jobs/{id}/tasks/{taskId}/files/{path}</c> → the bytes set with <see cref="SetTaskFile"/>,
/// 404 FileNotFound / TaskNotFound / JobNotFound.</item>
/// </list>
/// Every request must carry a supported <c>api-version</c> and a bearer token <see cref="Credential"/> issued for
/// <see cref="TokenScope"/> (else 400 / 401 AuthenticationFailed); every body must be
/// <c>application/json; odata=minimalmetadata</c> (else 400 InvalidHeaderValue). Errors are the Batch error body
/// <c>{"odata.metadata","code","message":{"lang","value"},"values"}</c>. <see cref="FailNext"/> scripts 429 / 5xx with
/// <c>Retry-After</c>. Test helpers move tasks through their states and set their files. Every request is recorded.
/// Needs <see cref="LoopbackTokenCredential"/> (in LoopbackKeyVault.cs) linked beside it.
/// </summary>
public sealed class LoopbackBatch : IAsyncDisposable
{
    public const string TokenScope = "https://batch.core.windows.net/.default";

    public const string BodyContentType = "application/json; odata=minimalmetadata";

    private static readonly string[] ApiVersions = ["2024-07-01.20.0", "2025-06-01"];

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<BatchRequest> _requests = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly Dictionary<string, Job> _jobs = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _gate = new();
    private bool _disposed;
    private Fault? _fault;

    private LoopbackBatch(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    /// <summary><c>http://127.0.0.1:{port}/</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>The only issuer of tokens this account accepts.</summary>
    public LoopbackTokenCredential Credential { get; } = new();

    /// <summary>The most tasks one List Tasks page holds (a smaller <c>maxresults</c> wins).</summary>
    public int PageSize { get; set; } = 2;

    /// <summary>Leave <c>api-version</c> out of <c>odata.nextLink</c> (the client must then add it).</summary>
    public bool NextLinkWithoutApiVersion { get; set; }

    /// <summary>When set, <c>odata.nextLink</c> points at this authority (e.g. <c>http://127.0.0.2:1</c>) instead of this account.</summary>
    public string? NextLinkAuthority { get; set; }

    /// <summary>Per task id: the add status (clienterror or servererror), error code and message Add Task Collection answers for it.</summary>
    public ConcurrentDictionary<string, (string Status, string Code, string Message)> TaskAddFailures { get; } = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<BatchRequest> Requests => [.. _requests];

    /// <summary>Requests a client must never send (e.g. more than 100 tasks in one collection), described.</summary>
    public IReadOnlyList<string> Violations => [.. _violations];

    public static async Task<LoopbackBatch> StartAsync()
    {
        LoopbackBatch? batch = null;
        var (app, address) = await LoopbackHost.StartAsync(() => batch is null ? null : batch.HandleAsync);
        return batch = new LoopbackBatch(app, address);
    }

    /// <summary>The next <paramref name="count"/> authenticated requests answer <paramref name="status"/> (429 TooManyRequests, 503 ServerBusy, ...) with <c>Retry-After</c>.</summary>
    public void FailNext(int count, int status = 429, int retryAfterSeconds = 0)
    {
        lock (_gate)
        {
            _fault = new Fault(count, status, retryAfterSeconds);
        }
    }

    /// <summary>A copy of a job as Get Job would answer it, or null.</summary>
    public JsonObject? FindJob(string jobId)
    {
        lock (_gate)
        {
            return _jobs.TryGetValue(jobId, out var job) ? (JsonObject)job.Body.DeepClone() : null;
        }
    }

    /// <summary>A copy of a task with every member, or null.</summary>
    public JsonObject? FindTask(string jobId, string taskId)
    {
        lock (_gate)
        {
            return _jobs.TryGetValue(jobId, out var job) && job.Tasks.TryGetValue(taskId, out var task) ? (JsonObject)task.DeepClone() : null;
        }
    }

    /// <summary>The ids of a job's tasks, in the order they were added.</summary>
    public IReadOnlyList<string> TaskIds(string jobId)
    {
        lock (_gate)
        {
            return _jobs.TryGetValue(jobId, out var job) ? [.. job.Order] : [];
        }
    }

    /// <summary>Moves a task to preparing (assigned to a node, waiting for the job preparation task).</summary>
    public void PrepareTask(string jobId, string taskId) => Transition(jobId, taskId, "preparing", _ => { });

    /// <summary>Moves a task to running, as a node starting it would.</summary>
    public void StartTask(string jobId, string taskId) => Transition(jobId, taskId, "running", info => info["startTime"] = Now());

    /// <summary>
    /// Completes a task whose process exited with <paramref name="exitCode"/>: result success for 0 without
    /// <paramref name="failureMessage"/>, otherwise failure with <c>failureInfo</c> (usererror FailureExitCode).
    /// </summary>
    public void CompleteTask(string jobId, string taskId, int exitCode, string? failureMessage = null) =>
        Transition(jobId, taskId, "completed", info =>
        {
            info["startTime"] ??= Now();
            info["endTime"] = Now();
            info["exitCode"] = exitCode;
            var success = exitCode == 0 && failureMessage is null;
            info["result"] = success ? "success" : "failure";
            if (!success)
            {
                info["failureInfo"] = FailureInfo("FailureExitCode", failureMessage ?? "The task process exited with an unexpected exit code");
            }
        });

    /// <summary>Completes a task whose process never ran (a pre-processing error such as a resource file download failure).</summary>
    public void FailTaskBeforeRun(string jobId, string taskId, string code, string message) =>
        Transition(jobId, taskId, "completed", info =>
        {
            info["startTime"] ??= Now();
            info["endTime"] = Now();
            info["result"] = "failure";
            info["failureInfo"] = FailureInfo(code, message);
        });

    /// <summary>Puts a file in a task's directory on its node: <c>stdout.txt</c>, <c>wd/out/result.json</c>, ...</summary>
    public void SetTaskFile(string jobId, string taskId, string path, byte[] content)
    {
        lock (_gate)
        {
            var job = _jobs[jobId];
            if (!job.Tasks.ContainsKey(taskId))
            {
                throw new InvalidOperationException($"Job '{jobId}' has no task '{taskId}'.");
            }

            job.Files[(taskId.ToLowerInvariant(), path)] = content;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var rawPath = rawTarget.Split('?')[0];
        var request = new BatchRequest(
            context.Request.Method,
            rawPath,
            context.Request.QueryString.Value ?? "",
            context.Request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            buffer.ToArray());
        _requests.Enqueue(request);

        var reply = Answer(request);
        context.Response.StatusCode = reply.Status;
        foreach (var (name, value) in reply.Headers)
        {
            context.Response.Headers[name] = value;
        }

        if (reply.File is { } file)
        {
            context.Response.ContentType = "application/octet-stream";
            await context.Response.Body.WriteAsync(file, context.RequestAborted);
        }
        else if (reply.Body is { } body)
        {
            context.Response.ContentType = "application/json;odata=minimalmetadata";
            await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
        }
    }

    private Reply Answer(BatchRequest request)
    {
        var apiVersion = request.QueryValue("api-version");
        if (apiVersion is null)
        {
            return Error(400, "MissingRequiredQueryParameter", "A query parameter that's mandatory for this request is not specified.",
                ("QueryParameterName", "api-version"));
        }

        if (!ApiVersions.Contains(apiVersion))
        {
            return Error(400, "UnsupportedRequestVersion", "The specified api-version is not supported.", ("QueryParameterValue", apiVersion));
        }

        if (Authenticate(request) is { } refusal)
        {
            return refusal;
        }

        if (TakeFault() is { } fault)
        {
            return fault;
        }

        if (request.Body.Length > 0 && request.ContentType != BodyContentType)
        {
            return Error(400, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.",
                ("HeaderName", "Content-Type"), ("HeaderValue", request.ContentType ?? ""));
        }

        var segments = request.RawPath.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        try
        {
            lock (_gate)
            {
                return (request.Method, segments) switch
                {
                    ("POST", ["jobs"]) => AddJob(request),
                    ("GET", ["jobs", var jobId]) => GetJob(jobId),
                    ("POST", ["jobs", var jobId, "terminate"]) => Terminate(jobId, request),
                    ("POST", ["jobs", var jobId, "addtaskcollection"]) => AddTasks(jobId, request),
                    ("GET", ["jobs", var jobId, "tasks"]) => ListTasks(jobId, request),
                    ("GET", ["jobs", var jobId, "tasks", var taskId, "files", .. var path]) when path.Length > 0 =>
                        GetFile(jobId, taskId, string.Join('/', path)),
                    _ => Error(404, "InvalidUri", $"The requested URI does not represent any resource on the server: {request.Method} {request.RawPath}."),
                };
            }
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            return Error(400, "InvalidRequestBody", $"The specified Request Body is not syntactically valid: {exception.Message}");
        }
    }

    private Reply? Authenticate(BatchRequest request)
    {
        if (request.Authorization is not { } authorization || !authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return Error(401, "AuthenticationFailed", "Server failed to authenticate the request. No bearer token.");
        }

        if (!Credential.TryGetIssued(authorization["Bearer ".Length..], out var issued) || !issued.Scopes.SequenceEqual([TokenScope]))
        {
            return Error(401, "AuthenticationFailed", "Server failed to authenticate the request. The token is not for the Batch service.");
        }

        return null;
    }

    private Reply? TakeFault()
    {
        lock (_gate)
        {
            if (_fault is not { Count: > 0 } fault)
            {
                return null;
            }

            _fault = fault with { Count = fault.Count - 1 };
            var reply = fault.Status == 429
                ? Error(429, "TooManyRequests", "The server is busy; too many requests.")
                : Error(fault.Status, "ServerBusy", "The server is currently unable to receive requests. Please retry your request.");
            return reply with { Headers = [("Retry-After", fault.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture))] };
        }
    }

    private Reply AddJob(BatchRequest request)
    {
        var body = request.Json?.AsObject() ?? throw new JsonException("The body is not an object.");
        var id = body["id"]?.GetValue<string>() ?? throw new KeyNotFoundException("id is required.");
        var poolId = body["poolInfo"]?["poolId"]?.GetValue<string>();
        if (poolId is null)
        {
            return Error(400, "MissingRequiredProperty", "A required property was not specified in the request body.", ("PropertyName", "poolInfo"));
        }

        if (_jobs.ContainsKey(id))
        {
            return Error(409, "JobExists", "The specified job already exists.");
        }

        var job = (JsonObject)body.DeepClone();
        job["url"] = new Uri(Endpoint, $"jobs/{id}").AbsoluteUri;
        job["eTag"] = NewETag();
        job["creationTime"] = Now();
        job["lastModified"] = Now();
        job["state"] = "active";
        job["stateTransitionTime"] = Now();
        job["onAllTasksComplete"] ??= "noaction";
        job["onTaskFailure"] ??= "noaction";
        job["executionInfo"] = new JsonObject { ["startTime"] = Now(), ["poolId"] = poolId };
        _jobs[id] = new Job(job);
        return new Reply(201, null) { Headers = [("Location", new Uri(Endpoint, $"jobs/{id}").AbsoluteUri), ("ETag", job["eTag"]!.GetValue<string>())] };
    }

    private Reply GetJob(string jobId)
    {
        if (!_jobs.TryGetValue(jobId, out var job))
        {
            return JobNotFound();
        }

        var body = (JsonObject)job.Body.DeepClone();
        body.Insert(0, "odata.metadata", new Uri(Endpoint, "$metadata#jobs/@Element").AbsoluteUri);
        return new Reply(200, body);
    }

    private Reply Terminate(string jobId, BatchRequest request)
    {
        if (!_jobs.TryGetValue(jobId, out var job))
        {
            return JobNotFound();
        }

        if (job.Body["state"]?.GetValue<string>() == "completed")
        {
            return Error(409, "JobCompleted", "The specified job is already in a completed state.");
        }

        var reason = request.Json?["terminateReason"]?.GetValue<string>() ?? "UserTerminate";
        job.Body["state"] = "completed";
        job.Body["stateTransitionTime"] = Now();
        var execution = job.Body["executionInfo"]!.AsObject();
        execution["endTime"] = Now();
        execution["terminateReason"] = reason;
        foreach (var task in job.Tasks.Values.Where(task => task["state"]?.GetValue<string>() != "completed"))
        {
            SetState(task, "completed");
            var info = task["executionInfo"]!.AsObject();
            info["endTime"] = Now();
            info["result"] = "failure";
            info["failureInfo"] = FailureInfo("TaskEnded", "Task Was Ended by User Request");
        }

        return new Reply(202, null);
    }

    private Reply AddTasks(string jobId, BatchRequest request)
    {
        var values = request.Json?["value"]?.AsArray() ?? throw new KeyNotFoundException("value is required.");
        if (values.Count > 100)
        {
            _violations.Enqueue($"Add Task Collection with {values.Count} tasks (at most 100).");
            return Error(400, "InvalidPropertyValue", "The value provided for one of the properties in the request body is invalid.",
                ("PropertyName", "value"), ("Reason", $"The collection holds {values.Count} tasks; at most 100 are allowed."));
        }

        if (!_jobs.TryGetValue(jobId, out var job))
        {
            return JobNotFound();
        }

        if (job.Body["state"]?.GetValue<string>() == "completed")
        {
            return Error(409, "JobCompleted", "The specified job is already in a completed state.");
        }

        var results = new JsonArray();
        foreach (var value in values)
        {
            var task = value?.AsObject() ?? throw new JsonException("A task is not an object.");
            var id = task["id"]?.GetValue<string>() ?? throw new KeyNotFoundException("A task has no id.");
            if (TaskAddFailures.TryGetValue(id, out var failure))
            {
                results.Add(AddResult(id, failure.Status, failure.Code, failure.Message));
            }
            else if (job.Tasks.ContainsKey(id))
            {
                results.Add(AddResult(id, "clienterror", "TaskExists", "The specified task already exists."));
            }
            else if (task["commandLine"]?.GetValue<string>() is not { Length: > 0 })
            {
                results.Add(AddResult(id, "clienterror", "MissingRequiredProperty", "A required property was not specified in the request body."));
            }
            else
            {
                var stored = (JsonObject)task.DeepClone();
                stored["url"] = new Uri(Endpoint, $"jobs/{jobId}/tasks/{id}").AbsoluteUri;
                stored["eTag"] = NewETag();
                stored["creationTime"] = Now();
                stored["lastModified"] = Now();
                stored["state"] = "active";
                stored["stateTransitionTime"] = Now();
                stored["executionInfo"] = new JsonObject { ["retryCount"] = 0, ["requeueCount"] = 0 };
                job.Tasks[id] = stored;
                job.Order.Add(id);
                results.Add(new JsonObject
                {
                    ["status"] = "success",
                    ["taskId"] = id,
                    ["eTag"] = stored["eTag"]!.GetValue<string>(),
                    ["lastModified"] = Now(),
                    ["location"] = stored["url"]!.GetValue<string>(),
                });
            }
        }

        // The service does not promise the order of the results; answer in reverse so that no client relies on it.
        var reversed = new JsonArray([.. results.Reverse().Select(result => result!.DeepClone())]);
        return new Reply(200, new JsonObject
        {
            ["odata.metadata"] = new Uri(Endpoint, "$metadata#taskaddresult").AbsoluteUri,
            ["value"] = reversed,
        });
    }

    private Reply ListTasks(string jobId, BatchRequest request)
    {
        if (!_jobs.TryGetValue(jobId, out var job))
        {
            return JobNotFound();
        }

        var tasks = job.Order.Select(id => job.Tasks[id]);
        if (request.QueryValue("$filter") is { } filter)
        {
            var match = Regex.Match(filter, @"^\s*state\s+eq\s+'(\w+)'\s*$");
            if (!match.Success)
            {
                return Error(400, "InvalidQueryParameterValue", "Value for one of the query parameters specified in the request URI is invalid.",
                    ("QueryParameterName", "$filter"), ("QueryParameterValue", filter));
            }

            tasks = tasks.Where(task => task["state"]?.GetValue<string>() == match.Groups[1].Value);
        }

        var pageSize = PageSize;
        if (request.QueryValue("maxresults") is { } maxResults)
        {
            pageSize = Math.Min(pageSize, int.Parse(maxResults, CultureInfo.InvariantCulture));
        }

        var skip = request.QueryValue("$skiptoken") is { } token ? int.Parse(token, CultureInfo.InvariantCulture) : 0;
        var all = tasks.ToArray();
        var select = request.QueryValue("$select")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var page = new JsonArray([.. all.Skip(skip).Take(pageSize).Select(task => Project(task, select))]);
        var body = new JsonObject
        {
            ["odata.metadata"] = new Uri(Endpoint, "$metadata#tasks").AbsoluteUri,
            ["value"] = page,
        };
        if (skip + pageSize < all.Length)
        {
            body["odata.nextLink"] = NextLink(request, skip + pageSize);
        }

        return new Reply(200, body);
    }

    private Reply GetFile(string jobId, string taskId, string path)
    {
        if (!_jobs.TryGetValue(jobId, out var job))
        {
            return JobNotFound();
        }

        if (!job.Tasks.ContainsKey(taskId))
        {
            return Error(404, "TaskNotFound", "The specified task does not exist.");
        }

        if (!job.Files.TryGetValue((taskId.ToLowerInvariant(), path), out var content))
        {
            return Error(404, "FileNotFound", "The specified file does not exist.");
        }

        return new Reply(200, null)
        {
            File = content,
            Headers =
            [
                ("ocp-batch-file-isdirectory", "false"),
                ("ocp-creation-time", DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture)),
                ("Last-Modified", DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture)),
            ],
        };
    }

    private string NextLink(BatchRequest request, int skip)
    {
        var query = QueryHelpers.ParseQuery(request.Query)
            .Where(pair => pair.Key != "$skiptoken" && !(NextLinkWithoutApiVersion && pair.Key == "api-version"))
            .Select(pair => $"{pair.Key}={Uri.EscapeDataString(pair.Value.ToString())}")
            .Append($"$skiptoken={skip}");
        var authority = NextLinkAuthority ?? Endpoint.GetLeftPart(UriPartial.Authority);
        return $"{authority}{request.RawPath}?{string.Join('&', query)}";
    }

    private void Transition(string jobId, string taskId, string state, Action<JsonObject> updateExecutionInfo)
    {
        lock (_gate)
        {
            var task = _jobs.TryGetValue(jobId, out var job) && job.Tasks.TryGetValue(taskId, out var found)
                ? found
                : throw new InvalidOperationException($"Job '{jobId}' has no task '{taskId}'.");
            SetState(task, state);
            updateExecutionInfo(task["executionInfo"]!.AsObject());
        }
    }

    private static void SetState(JsonObject task, string state)
    {
        task["previousState"] = task["state"]?.GetValue<string>();
        task["previousStateTransitionTime"] = task["stateTransitionTime"]?.GetValue<string>();
        task["state"] = state;
        task["stateTransitionTime"] = Now();
        task["lastModified"] = Now();
    }

    private static JsonObject Project(JsonObject task, string[]? select)
    {
        if (select is null)
        {
            return (JsonObject)task.DeepClone();
        }

        var projected = new JsonObject();
        foreach (var name in select)
        {
            if (task[name] is { } value)
            {
                projected[name] = value.DeepClone();
            }
        }

        return projected;
    }

    private static JsonObject FailureInfo(string code, string message) => new()
    {
        ["category"] = "usererror",
        ["code"] = code,
        ["message"] = message,
        ["details"] = new JsonArray(new JsonObject { ["name"] = "Message", ["value"] = message }),
    };

    private JsonObject AddResult(string taskId, string status, string code, string message) => new()
    {
        ["status"] = status,
        ["taskId"] = taskId,
        ["error"] = ErrorBody(code, message, []),
    };

    private Reply JobNotFound() => Error(404, "JobNotFound", "The specified job does not exist.");

    private Reply Error(int status, string code, string message, params (string Key, string Value)[] values) =>
        new(status, ErrorBody(code, message, values));

    private JsonObject ErrorBody(string code, string message, (string Key, string Value)[] values)
    {
        var body = new JsonObject
        {
            ["odata.metadata"] = new Uri(Endpoint, "$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element").AbsoluteUri,
            ["code"] = code,
            ["message"] = new JsonObject
            {
                ["lang"] = "en-US",
                ["value"] = $"{message}\nRequestId:{Guid.NewGuid()}\nTime:{Now()}",
            },
        };
        if (values.Length > 0)
        {
            body["values"] = new JsonArray([.. values.Select(value => new JsonObject { ["key"] = value.Key, ["value"] = value.Value })]);
        }

        return body;
    }

    private static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static string NewETag() => "0x8D" + Convert.ToHexString(Guid.NewGuid().ToByteArray())[..13];

    private sealed record Job(JsonObject Body)
    {
        public Dictionary<string, JsonObject> Tasks { get; } = new(StringComparer.OrdinalIgnoreCase);

        public List<string> Order { get; } = [];

        public Dictionary<(string TaskId, string Path), byte[]> Files { get; } = [];
    }

    private sealed record Fault(int Count, int Status, int RetryAfterSeconds);

    private sealed record Reply(int Status, JsonObject? Body)
    {
        public IReadOnlyList<(string Name, string Value)> Headers { get; init; } = [];

        public byte[]? File { get; init; }
    }
}
