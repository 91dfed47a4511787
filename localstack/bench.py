#!/usr/bin/env python3
"""Benchmarks the cafe's order saga on the local cloud and writes a report (JSON, Markdown, SVG).

    make bench   # = .venv/bin/python localstack/bench.py [--quick] [--orders N] [--customers C] [--out DIR]

It benchmarks the stack `make up` deployed (its outputs: .cafe/outputs.json) in four parts:
  floor       a minimal design's 10 AWS calls for an order, made directly (a bare HTTP client)
              against the same endpoint, one order at a time and then with the same concurrency,
              from one client process per customer (scratch copies of the template's tables, a bus
              and a topic, deleted afterwards): what the local cloud itself allows, with no Lambda
              and no API Gateway in between.
  end-to-end  N orders from C concurrent customers through the REST API, each customer placing one
              order at a time; each order is timed from POST /orders to its notification.
  calls       AWS calls per order by service, counted on a second MiniStack this script starts on
              free ports, whose functions reach the cloud through a counting proxy (MiniStack hands
              its own AWS_ENDPOINT_URL to every function); from the counts, the cost of 1M orders.
  functions   every bootstrap in target/lambda/, run by this script against its own Lambda Runtime
              API: init (process start to the first /next poll), warm handler durations, peak RSS.

Statistics: percentiles are nearest-rank (the smallest measured value with at least p% of the values
at or below it), so every percentile is a measured value. Times are milliseconds.

JSON schema of <out>/bench.json ("schema": "cafe-bench/3"; the same keys in every run, --quick or
not; a figure that could not be measured is null). Stats = {count, min, p50, p90, p99, max, mean};
Cpu = {wall_s, client_cpu_s, cloud_cpu_s, client_cpu_ms_per_order, cloud_cpu_ms_per_order,
cloud_cores_busy} (client: this script; cloud: the local cloud's process and the function processes
it started; null when that process is not on this machine).
  schema, started_at (UTC ISO-8601), duration_s, quick
  config      {orders, customers, floor_orders, floor_alone_orders, cpus, load_average_at_start,
               counted_orders_per_outcome, init_starts, warm_events, stock_fraction, seed, endpoint,
               api_url, stack_name, percentiles}
  end_to_end  {orders, warmup_orders, completed, cancelled, failed, wall_s, orders_per_s, stock_cups,
               cups_requested, polls_per_order, post_ms: Stats, cpu: Cpu,
               latency_ms:  {all, completed, cancelled: Stats}   POST sent -> notificationDate
               observed_ms: {all, completed, cancelled: Stats}   POST sent -> a poll returned it
               stages_ms: {post_to_order_stored, order_stored_to_beverage_made,
                           beverage_made_to_notification, order_stored_to_notification: Stats}}
  floor       {minimal: {
                 alone, concurrent: {orders, customers, completed, cancelled, wall_s, orders_per_s,
                                     latency_ms: {all, completed, cancelled: Stats},
                                     call_ms: {"<Service>.<Operation>": Stats},
                                     client_processes: [{cpu_s, wall_s, cores}], cpu: Cpu},
                 per_order: {completed, cancelled: {calls: {"<Service>.<Operation>": float},
                                                    total_calls, units: {rru, wru}}}}}
  requests_per_completed_order {saga, minimal: float}   every AWS request of a completed order, the
              platform's counted (the minimal design's as cost.minimal_design assumes them)
  ratio       {minimal: {orders_per_s, cloud_cpu_per_order, calls_per_completed_order,
                         aws_requests_per_completed_order, p50, p99, p50_over_one_at_a_time}}
              the saga's over the floor's
              (calls_per_completed_order: the saga's requests over the calls the floor made)
  emulator    {notes: [str], invocations: {<binary>: {invocations, report_ms: Stats}}}
  functions   [{binary, function_name, zip_bytes, bootstrap_bytes, init_ms: Stats, init_under_20ms,
                init_rss_kib, first_invocation_ms, warm_ms: Stats, warm_errors, peak_rss_kib,
                log_lines_per_invocation, event}]          (RSS: VmHWM, at the first poll / after warm)
  aws_calls   {method: [str], orders: {completed, cancelled},
               per_order: {completed, cancelled, mix: PerOrder}}
              PerOrder = {dynamodb: {calls: {<op>: n}, rru, wru, conditional_failures},
                          eventbridge: {calls: {<op>: n}, events}, sns: {calls: {<op>: n}, publishes},
                          sqs: {function_calls: {<op>: n}, sends, receives, deletes, requests},
                          lambda: {invocations: {<binary>: n}, total, gb_seconds},
                          apigateway: {requests}}
  cost        {prices: {...}, source, excluded: [str], mix_completed_fraction,
               per_million_orders_usd: {completed, cancelled, mix: {lambda_requests, lambda_duration,
                   dynamodb_writes, dynamodb_reads, eventbridge, sqs, sns, apigateway, total}},
               per_order_usd: {completed, cancelled, mix},
               minimal_design: {method, per_order: {completed, cancelled, mix: PerOrder},
                                per_million_orders_usd: {completed, cancelled, mix: {... as above}}}}
  files       {json, markdown, svg}
"""

from benchmark.main import main  # localstack/benchmark/: one module per part

if __name__ == "__main__":
    main()
