using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Btmc.Platform.Azure.Batch;

/// <summary>
/// The Azure Batch data plane over REST on an Azure.Core pipeline, shaped after the official
/// <c>Azure.Compute.Batch.BatchClient</c> so that a swap is mechanical:
/// <list type="bullet">
/// <item>Add Job: <c>POST {account}/jobs</c> → 201 (409 JobExists when the id is taken)</item>
/// <item>Get Job: <c>GET {account}/jobs/{jobId}</c> → 200 job</item>
/// <item>Terminate Job: <c>POST {account}/jobs/{jobId}/terminate</c> → 202 (409 JobCompleted when it has ended)</item>
/// <item>Add Task Collection: <c>POST {account}/jobs/{jobId}/addtaskcollection</c> with at most 100 tasks → 200 and one
/// result per task (success, or clienterror/servererror with an error such as TaskExists)</item>
/// <item>List Tasks: <c>GET {account}/jobs/{jobId}/tasks</c> (<c>$filter</c>, <c>$select</c>, <c>maxresults</c>),
/// following <c>odata.nextLink</c></item>
/// <item>Get Task File: <c>GET {account}/jobs/{jobId}/tasks/{taskId}/files/{filePath}</c> → the bytes</item>
/// </list>
/// Every request carries <c>api-version</c> and an Entra ID bearer token for <see cref="TokenScope"/>; bodies are
/// <c>application/json; odata=minimalmetadata</c>. Throttling (429, 503 with <c>Retry-After</c>) and transient failures
/// are retried a bounded number of times (<see cref="BatchClientOptions"/>); other failures throw
/// <see cref="RequestFailedException"/> with the status, the Batch error code (<see cref="RequestFailedException.ErrorCode"/>)
/// and message. Because a retried POST may already have been applied, callers treat JobExists / TaskExists as success.
/// Thread-safe; share one instance per account.
/// </summary>
/// <remarks>
/// Differences from the official client: <see cref="GetTaskFileAsync"/> returns null on 404 instead of throwing, and
/// the request/response types are records holding only what this project uses. The official client's token scope is
/// <c>https://batch.core.windows.net//.default</c> (resource <c>https://batch.core.windows.net/</c>); this client asks
/// for the single-slash form, which Entra ID maps to the same Batch resource.
/// </remarks>
public sealed class BatchClient
{
    /// <summary>The Entra ID scope for Batch data-plane tokens.</summary>
    public const string TokenScope = "https://batch.core.windows.net/.default";

    /// <summary>The content type of every request body, as the Batch service requires.</summary>
    public const string JsonContentType = "application/json; odata=minimalmetadata";

    /// <summary>The most tasks one Add Task Collection request may carry.</summary>
    public const int MaxTasksPerCollection = 100;

    /// <summary>An Add Task Collection body must stay under 1 MB, or the service answers RequestBodyTooLarge.</summary>
    public const int MaxCollectionBodyBytes = 1024 * 1024;

    /// <summary>Batch's header for the caller's request id (Azure.Core also sends it as x-ms-client-request-id).</summary>
    private const string ClientRequestIdHeader = "client-request-id";

    private readonly HttpPipeline _pipeline;
    private readonly string _apiVersion;
    private readonly int _maxRetries;

    /// <summary>A client for the Batch account at <paramref name="accountEndpoint"/>, e.g. <c>https://myaccount.westeurope.batch.azure.com</c>.</summary>
    /// <exception cref="ArgumentException">The endpoint is not an account address, or not https (plain http only to a loopback host).</exception>
    public BatchClient(Uri accountEndpoint, TokenCredential credential, BatchClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(credential);
        options ??= new BatchClientOptions();
        Endpoint = ValidateEndpoint(accountEndpoint);
        _apiVersion = options.GetVersionString();
        _maxRetries = options.Retry.MaxRetries;
        _pipeline = HttpPipelineBuilder.Build(options, [], [new BatchAuthenticationPolicy(credential)], new ResponseClassifier());
    }

    /// <summary>The account's address, <c>https://{account}.{region}.batch.azure.com/</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>Adds a job on an existing pool.</summary>
    /// <exception cref="ArgumentException">The job id is malformed or no pool id is given; nothing is sent.</exception>
    /// <exception cref="RequestFailedException">409 JobExists when the id is taken; any other refusal.</exception>
    public async Task<Response> CreateJobAsync(BatchJobCreateContent job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        ValidateId(job.Id, "job", nameof(job));
        if (string.IsNullOrEmpty(job.PoolInfo?.PoolId))
        {
            throw new ArgumentException("The job names no pool (PoolInfo.PoolId).", nameof(job));
        }

        var request = CreateRequest(RequestMethod.Post, ["jobs"], BatchJson.WriteJobCreate(job));
        return await SendAsync(request, "Add Job", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A job: its state, pool and execution information.</summary>
    /// <exception cref="RequestFailedException">404 JobNotFound; any other refusal.</exception>
    public async Task<Response<BatchJob>> GetJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ValidateId(jobId, "job", nameof(jobId));
        var response = await SendAsync(CreateRequest(RequestMethod.Get, ["jobs", jobId]), "Get Job", cancellationToken).ConfigureAwait(false);
        return Response.FromValue(Read(response, BatchJson.ReadJob), response);
    }

    /// <summary>
    /// Terminates a job: its running tasks are stopped, it accepts no more tasks, and it moves to completed with
    /// <paramref name="terminateReason"/> (UserTerminate when none is given). Task files stay readable.
    /// </summary>
    /// <exception cref="RequestFailedException">404 JobNotFound; 409 JobCompleted when the job has ended; any other refusal.</exception>
    public async Task<Response> TerminateJobAsync(string jobId, string? terminateReason = null, CancellationToken cancellationToken = default)
    {
        ValidateId(jobId, "job", nameof(jobId));
        var body = terminateReason is null ? null : BatchJson.WriteTerminate(terminateReason);
        var request = CreateRequest(RequestMethod.Post, ["jobs", jobId, "terminate"], body);
        return await SendAsync(request, "Terminate Job", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Adds up to <see cref="MaxTasksPerCollection"/> tasks in one request. The service answers one result per task, in
    /// any order: success, or clienterror / servererror with the error (TaskExists for an id already in the job).
    /// Re-sending the same ids after a failure or timeout adds nothing twice.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// No tasks, more than <see cref="MaxTasksPerCollection"/>, a malformed task id, or a body of 1 MB or more; nothing is sent.
    /// </exception>
    /// <exception cref="RequestFailedException">The whole request was refused (404 JobNotFound, 409 JobCompleted, ...).</exception>
    public async Task<Response<BatchCreateTaskCollectionResult>> CreateTaskCollectionAsync(
        string jobId, IReadOnlyList<BatchTaskCreateContent> tasks, CancellationToken cancellationToken = default)
    {
        ValidateId(jobId, "job", nameof(jobId));
        ArgumentNullException.ThrowIfNull(tasks);
        if (tasks.Count is 0 or > MaxTasksPerCollection)
        {
            throw new ArgumentException(
                $"An Add Task Collection request carries 1 to {MaxTasksPerCollection} tasks, not {tasks.Count}.", nameof(tasks));
        }

        foreach (var task in tasks)
        {
            ArgumentNullException.ThrowIfNull(task, nameof(tasks));
            ValidateId(task.Id, "task", nameof(tasks));
            ArgumentException.ThrowIfNullOrEmpty(task.CommandLine, nameof(tasks));
        }

        var body = BatchJson.WriteTaskCollection(tasks);
        if (body.Length >= MaxCollectionBodyBytes)
        {
            throw new ArgumentException(
                $"The {tasks.Count} tasks serialize to {body.Length} bytes; an Add Task Collection body must stay under 1 MB. Send fewer tasks.",
                nameof(tasks));
        }

        var request = CreateRequest(RequestMethod.Post, ["jobs", jobId, "addtaskcollection"], body);
        var response = await SendAsync(request, "Add Task Collection", cancellationToken).ConfigureAwait(false);
        return Response.FromValue(Read(response, BatchJson.ReadTaskCollectionResult), response);
    }

    /// <summary>
    /// Every task of a job, page by page (<c>odata.nextLink</c>). <paramref name="select"/> names the members wanted
    /// (e.g. id, state, executionInfo); <paramref name="maxResults"/> (1..1000) sizes the pages. A next link must point at
    /// this account; one that does not ends the listing with <see cref="InvalidOperationException"/>, so no token is
    /// sent elsewhere.
    /// </summary>
    public AsyncPageable<BatchTask> GetTasksAsync(
        string jobId,
        string? filter = null,
        IEnumerable<string>? select = null,
        int? maxResults = null,
        CancellationToken cancellationToken = default)
    {
        ValidateId(jobId, "job", nameof(jobId));
        if (maxResults is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(maxResults), maxResults, "maxresults is 1 to 1000.");
        }

        var selected = select is null ? null : string.Join(",", select);
        return new BatchPageable<BatchTask>(
            (nextLink, pageSizeHint, token) => GetTaskPageAsync(jobId, filter, selected, maxResults ?? pageSizeHint, nextLink, token),
            cancellationToken);
    }

    /// <summary>
    /// The content of a file of a task's directory on its node, e.g. <c>stdout.txt</c>, <c>stderr.txt</c> or
    /// <c>wd/out/result.json</c> (paths are relative to the task directory, whose working directory is <c>wd</c>);
    /// null when the service answers 404 (no such file, task or job). The whole file is read into memory.
    /// </summary>
    /// <exception cref="ArgumentException">The path is empty, absolute, or climbs with '..'; nothing is sent.</exception>
    /// <exception cref="RequestFailedException">Any refusal other than 404 (e.g. 409 TaskFilesUnavailable once the node is gone).</exception>
    public async Task<byte[]?> GetTaskFileAsync(string jobId, string taskId, string filePath, CancellationToken cancellationToken = default)
    {
        ValidateId(jobId, "job", nameof(jobId));
        ValidateId(taskId, "task", nameof(taskId));
        var segments = SplitFilePath(filePath);
        var request = CreateRequest(RequestMethod.Get, ["jobs", jobId, "tasks", taskId, "files", .. segments], accept: "application/octet-stream, application/json");
        var response = await SendAsync(request, "Get Task File", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return response.Status == 404 ? null : response.Content.ToArray();
    }

    private async Task<Page<BatchTask>> GetTaskPageAsync(
        string jobId, string? filter, string? select, int? maxResults, string? nextLink, CancellationToken cancellationToken)
    {
        Request request;
        if (nextLink is null)
        {
            request = CreateRequest(RequestMethod.Get, ["jobs", jobId, "tasks"]);
            if (filter is not null)
            {
                request.Uri.AppendQuery("$filter", filter);
            }

            if (select is not null)
            {
                request.Uri.AppendQuery("$select", select);
            }

            if (maxResults is { } size)
            {
                request.Uri.AppendQuery("maxresults", size.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        else
        {
            request = CreateNextPageRequest(nextLink);
        }

        var response = await SendAsync(request, "List Tasks", cancellationToken).ConfigureAwait(false);
        var (tasks, next) = Read(response, BatchJson.ReadTaskPage);
        return Page<BatchTask>.FromValues(tasks, next, response);
    }

    private Request CreateNextPageRequest(string nextLink)
    {
        if (!Uri.TryCreate(Endpoint, nextLink, out var uri)
            || !string.Equals(uri.GetLeftPart(UriPartial.Authority), Endpoint.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"The Batch service's odata.nextLink '{nextLink}' does not point at the account {Endpoint}; the listing stops rather than send a token elsewhere.");
        }

        var request = _pipeline.CreateRequest();
        request.Method = RequestMethod.Get;
        request.Uri.Reset(uri);
        if (!uri.Query.Contains("api-version=", StringComparison.OrdinalIgnoreCase))
        {
            request.Uri.AppendQuery("api-version", _apiVersion);
        }

        request.Headers.SetValue(HttpHeader.Names.Accept, "application/json");
        request.Headers.SetValue(ClientRequestIdHeader, request.ClientRequestId);
        return request;
    }

    private Request CreateRequest(RequestMethod method, IReadOnlyList<string> segments, byte[]? body = null, string accept = "application/json")
    {
        var request = _pipeline.CreateRequest();
        request.Method = method;
        request.Uri.Reset(Endpoint);
        foreach (var segment in segments)
        {
            request.Uri.AppendPath("/", escape: false);
            request.Uri.AppendPath(segment, escape: true);
        }

        request.Uri.AppendQuery("api-version", _apiVersion);
        request.Headers.SetValue(HttpHeader.Names.Accept, accept);
        request.Headers.SetValue(ClientRequestIdHeader, request.ClientRequestId);
        if (body is not null)
        {
            request.Headers.SetValue(HttpHeader.Names.ContentType, JsonContentType);
            request.Content = RequestContent.Create(body);
        }

        return request;
    }

    /// <summary>
    /// Sends through the pipeline (bounded retries, bearer token per try) and returns the 2xx response (or a 404 when
    /// <paramref name="allowNotFound"/>); any other answer throws <see cref="RequestFailedException"/> with the Batch
    /// error code and message. No response at all after the retries throws it with status 0.
    /// </summary>
    private async Task<Response> SendAsync(Request request, string operation, CancellationToken cancellationToken, bool allowNotFound = false)
    {
        Response response;
        try
        {
            response = await _pipeline.SendRequestAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsTransportFailure(exception, cancellationToken))
        {
            throw new RequestFailedException(
                0,
                $"Batch {operation} got no response after {_maxRetries + 1} attempt(s) at most: {exception.GetBaseException().Message}",
                null,
                exception);
        }

        if (response.Status is >= 200 and < 300 || (allowNotFound && response.Status == 404))
        {
            return response;
        }

        throw new RequestFailedException(response, null, BatchErrorParser.Instance);
    }

    /// <summary>Reads a success body (see <see cref="ResponseBody.Read"/>).</summary>
    private static T Read<T>(Response response, Func<JsonElement, T> read) => ResponseBody.Read(response, "The Batch service", read);

    /// <summary>Job and task ids: 1..64 letters, digits, '-' and '_' (the service's rule).</summary>
    internal static void ValidateId(string? id, string kind, string parameterName)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new ArgumentException($"'{id}' is not a Batch {kind} id: 1 to 64 letters, digits, '-' and '_'.", parameterName);
        }
    }

    private static string[] SplitFilePath(string filePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        var segments = filePath.Split('/');
        if (filePath.StartsWith('/') || segments.Any(segment => segment is "" or "." or ".." || segment.Contains('\\')))
        {
            throw new ArgumentException(
                $"'{filePath}' is not a path relative to the task directory (segments separated by '/', no '..').", nameof(filePath));
        }

        return segments;
    }

    private static Uri ValidateEndpoint(Uri accountEndpoint)
    {
        ArgumentNullException.ThrowIfNull(accountEndpoint);
        if (!accountEndpoint.IsAbsoluteUri || accountEndpoint.AbsolutePath != "/" || accountEndpoint.Query.Length > 0
            || accountEndpoint.Fragment.Length > 0)
        {
            throw new ArgumentException(
                $"'{accountEndpoint}' is not a Batch account address such as https://myaccount.westeurope.batch.azure.com.", nameof(accountEndpoint));
        }

        if (!BatchAuthenticationPolicy.MaySendTokenTo(accountEndpoint))
        {
            throw new ArgumentException(
                $"'{accountEndpoint}' is not https; plain http is allowed only to localhost or a loopback address.", nameof(accountEndpoint));
        }

        return new Uri(accountEndpoint.GetLeftPart(UriPartial.Authority) + "/");
    }

    private static bool IsTransportFailure(Exception exception, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && exception is AggregateException or OperationCanceledException or IOException or RequestFailedException { Status: 0 };
}
