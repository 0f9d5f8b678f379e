"""The strategy report's words in English and Chinese: one catalog for every heading, label,
explanation paragraph, table column, chart text, summary sentence and KPI name.

`t(key, language, **fmt)` is a sentence or heading of the catalog (`str.format` placeholders);
`word(text, language)` is a column label or a domain word (a customer class, a value tier, an
action's name...), looked up by the English text or the snake_case name the tables carry, with a
trailing unit in brackets kept ("energy 12 months (MWh)"); `heading` writes a section heading
as HTML whose id is the same in both languages (the contents and the summary link to it).

Pure: no I/O, no state. Text from data is never translated, only escaped where it is rendered.
"""

from __future__ import annotations

import re
from html import escape

from powerlens.config_base import ConfigError

LANGUAGES: tuple[str, ...] = ("en", "zh")
_INDEX = {"en": 0, "zh": 1}


def check_language(language: str) -> str:
    """The language if the report speaks it, else a PowerlensError naming the ones it does."""
    if language not in LANGUAGES:
        raise ConfigError(f"report language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    return language


# --------------------------------------------------------------------------- headings and prose
# Section headings are keyed by their HTML id ("sec-..."): the same in both languages.

TEXT: dict[str, tuple[str, str]] = {
    # headings
    "sec-top": ("Strategy report {period} — {region}", "营销策略报告 {period} — {region}"),
    "sec-summary": ("Summary", "摘要"),
    "sec-kpis": ("1. KPIs", "1. 关键指标"),
    "sec-service": ("Service quality (95598) and payment channels", "95598 服务质量与缴费渠道"),
    "sec-pareto": ("2. Pareto curve of revenue", "2. 电费收入帕累托曲线"),
    "sec-tiers": ("3. Value x credit tier matrix", "3. 价值分层 × 信用等级矩阵"),
    "sec-migration": ("Segment migration", "分层迁移"),
    "sec-tou": ("Price and the time-of-use offer", "电价与峰谷分时电价推荐"),
    "sec-big": ("4. Big and latent-big customers", "4. 大客户与潜在大客户"),
    "sec-industries": ("Industries and the efficiency audit", "行业对标与能效诊断"),
    "sec-cards": ("Big-customer cards", "大客户档案"),
    "sec-shapes": ("5. Load-shape segments", "5. 负荷形态分群"),
    "sec-risks": ("6. Risk lists", "6. 风险名单"),
    "sec-plan": ("7. Action plan", "7. 行动计划"),
    "sec-review": ("8. How the last actions worked", "8. 上期行动效果"),
    "sec-health": ("9. Model health", "9. 模型健康度"),
    "sec-regions": ("10. Regions: load, growth, line loss and forecasts", "10. 分地区：负荷、增长、线损与预测"),
    "sec-growth": ("Growth and load factor", "增长与负荷率"),
    "sec-loss": ("Line loss and theft", "线损与窃电"),
    "sec-sales": ("Sales per customer class", "分用户类别售电量"),
    "sec-steps": ("New-load events", "新增负荷事件"),
    "sec-forecast": ("Last week's forecast against what happened", "上周预测与实际对比"),
    "sec-outlook": ("The 12-month outlook", "未来 12 个月展望"),
    "contents": ("Contents", "目录"),
    "contents_regions": ("10. Regions", "10. 分地区"),
    "contents_service": ("service quality and payment channels", "服务质量与缴费渠道"),
    "contents_tou": ("price and the ToU offer", "电价与分时电价推荐"),
    "contents_migration": ("migration", "分层迁移"),
    "contents_industries": ("industries", "行业对标"),
    "contents_cards": ("cards", "大客户档案"),
    "see": ("(see)", "（详见）"),
    "all_regions": ("all regions", "全部地区"),
    # the opening
    "intro": ("What the customer base looks like this period, who matters, who is at risk, what to do next and "
              "why, and how last period's actions worked. Everything is as of the period's end, from data before "
              "it. Customers appear only by their pseudonym; groups smaller than the minimum group size are not "
              "shown.",
              "本期客户群概况：哪些客户最重要、哪些客户有风险、下一步做什么及原因，以及上期行动的效果。所有数据截至本期末，"
              "仅使用期末之前的数据。客户仅以化名出现；少于最小分组人数的群体不予展示。"),
    "period_line": ("Period {period} (data before {cutoff}); region: {region}.",
                    "统计期 {period}（数据截至 {cutoff} 之前）；地区：{region}。"),
    "region_unknown": ("Region {region} has no customers in this snapshot; known regions: {regions}.",
                       "本快照中地区 {region} 没有客户；已知地区：{regions}。"),
    "region_too_small": ("Region {region} has fewer than {n} customers: aggregates are suppressed.",
                         "地区 {region} 客户少于 {n} 户：汇总数据不予展示。"),
    "no_playbook": ("No playbook: strategies and actions are not shown.", "没有策略手册：不展示策略和行动。"),
    "nothing_to_summarize": ("Nothing to summarize: the snapshot holds no KPIs, plan or scores yet.",
                             "无可摘要内容：快照中尚无关键指标、行动计划或风险评分。"),
    # KPIs and service
    "kpis_intro": ("Accounts active in the month, billed energy and revenue, the share of bills due in the month "
                   "paid in full by the due date, unpaid past-due amount at month end, accounts closed and confirmed "
                   "thefts (inspections), for the period, the month before and the same month a year earlier, and "
                   "the trend of the 12 months up to it.",
                   "本月活跃户数、售电量与电费收入、本月到期账单按期足额缴清的比例、月末逾期欠费金额、销户数和查实窃电户数"
                   "（用电检查），列出本期、上月和去年同月，以及截至本期的 12 个月走势。"),
    "kpis_suppressed": ("KPIs suppressed (group too small).", "关键指标不予展示（群体过小）。"),
    "no_kpis": ("No customers, bills, payments or service events yet: no KPIs.",
                "尚无客户、账单、缴费或服务记录：无关键指标。"),
    "kpis_region_against_company": ("Region {region} against the whole company: its KPIs next to the company's, "
                                    "and its share of each.",
                                    "地区 {region} 与全公司对比：本地区指标与全公司指标并列，并给出本地区占比。"),
    "service_intro": ("The period's service KPIs per region against their targets (service.targets in params.yaml): "
                      "complaints per 10,000 accounts, fault resolution hours, callback satisfaction and "
                      "new-connection lead time. Each KPI that breaks its target is a rectification item, checked "
                      "again next period. Then how customers pay: the share paying digitally and the accounts still "
                      "paying at counters.",
                      "本期各地区 95598 服务指标与目标值（params.yaml 中 service.targets）的对比：每万户投诉数、故障处理时长、"
                      "回访满意度和新装接电时长。未达标的指标列为整改项，下期复查。其后是客户缴费方式：线上缴费占比，以及仍在营业厅"
                      "柜台缴费的用户。"),
    "no_service_kpis": ("No service events with the 95598 attributes: no service KPIs.",
                        "没有带 95598 属性的服务记录：无服务指标。"),
    "rectification_now": ("Rectification items of {period} (KPIs that break their target):",
                          "{period} 的整改项（未达标的指标）："),
    "no_rectification": ("No service KPI breaks its target in {period}.", "{period} 所有服务指标均达标。"),
    "rectification_follow_up": ("Last period's rectification items, checked now:", "上期整改项的复查结果："),
    "counter_payers": ("{n} open accounts mostly paid at a counter lately (the targets of an e-payment campaign); "
                       "the first {shown}:",
                       "{n} 户在网用户近期主要在柜台缴费（线上缴费推广的对象）；前 {shown} 户："),
    # Pareto
    "pareto_intro": ("Billed revenue of the 12 months up to the period, customers sorted from largest to smallest.",
                     "截至本期 12 个月的电费收入，客户按收入从高到低排列。"),
    "no_pareto": ("No bills yet: no Pareto curve.", "尚无账单：无帕累托曲线。"),
    "pareto_suppressed": ("Fewer than {n} billed customers: the Pareto curve is suppressed.",
                          "计费客户少于 {n} 户：帕累托曲线不予展示。"),
    "pareto_top20": ("The top 20% of customers bring {share} of the revenue ({n} billed customers).",
                     "前 20% 的客户贡献了 {share} 的电费收入（计费客户 {n} 户）。"),
    # tiers and migration
    "tiers_intro": ("Customers and revenue share per value tier x credit grade, with each cell's strategy from the "
                    "playbook. Cells with fewer customers than the minimum group size show \"<n\".",
                    "各价值分层 × 信用等级单元的客户数和电费收入占比，以及策略手册为每个单元给出的策略。客户数少于最小分组人数的"
                    "单元显示为“<n”。"),
    "no_segments_matrix": ("No segments yet: no value x credit matrix.", "尚无客户分层：无价值 × 信用矩阵。"),
    "no_playbook_matrix": ("No playbook: no value x credit matrix.", "没有策略手册：无价值 × 信用矩阵。"),
    "migration_intro": ("How customers moved between value tier / credit grade cells since the previous period "
                        "(rows: last period, columns: this period; \"new\" opened, \"left\" closed in between).",
                        "自上期以来客户在价值分层 / 信用等级单元之间的迁移（行：上期，列：本期；“新增”为期间新开户，“销户”为期间"
                        "销户）。"),
    "no_migration": ("No segments as of {date}: migration is not shown.", "{date} 没有客户分层：不展示迁移。"),
    "migration_suppressed": ("Migration suppressed (group too small).", "迁移不予展示（群体过小）。"),
    "migration_dates": ("From {start} to {end}:", "从 {start} 到 {end}："),
    # price and the ToU offer
    "tou_intro": ("What each customer class pays per kWh and at the peak, how much its consumption and complaints "
                  "answered the last price rise (price sensitivity), and the peak/valley time-of-use offer: each "
                  "flat-tariff customer's yearly bill under ToU from its own load profile, with {shift} of its peak "
                  "kWh moved to the valley. Customers who would save are offered it (the action plan's tou_offer, "
                  "largest saving first, with a random holdout).",
                  "各用户类别的平均电价和峰段电费占比、用电量与投诉对上次调价的反应（价格敏感度），以及峰谷分时电价推荐：按每户"
                  "自身的负荷曲线、假设 {shift} 的峰段电量移至谷段，计算单一电价用户改用分时电价后的年电费。预计能节省的用户"
                  "列入推荐（行动计划中的 tou_offer，按节省额从大到小，并随机留置对照组）。"),
    "tou_line": ("{n} customers would save with ToU, {saving} a year together.",
                 "{n} 户用户改用分时电价可节省电费，合计每年 {saving}。"),
    "no_tou": ("No tariffs in the data: the ToU offer cannot be priced.", "数据中没有电价表：无法测算分时电价推荐。"),
    # big customers
    "big_intro": ("Big customers by the rule of each region (capacity, peak demand, voltage and tariff), their share "
                  "of the revenue, and the latent big customers: small and medium customers high on both current "
                  "and potential value.",
                  "按各地区规则（容量、最大需量、电压等级和两部制电价）认定的大客户及其电费收入占比，以及潜在大客户：当前价值和"
                  "潜在价值都高的中小客户。"),
    "no_big": ("No segments yet: no big or latent-big customers.", "尚无客户分层：无大客户或潜在大客户。"),
    "big_share": ("{n} big customers bring {share} of the revenue.", "{n} 户大客户贡献了 {share} 的电费收入。"),
    "big_suppressed": ("Fewer than {n} big customers: their share is suppressed.", "大客户少于 {n} 户：占比不予展示。"),
    "no_latent": ("No latent big customers flagged.", "未识别出潜在大客户。"),
    "latent_top": ("The first {shown} latent big customers:", "前 {shown} 户潜在大客户："),
    "no_big_changes": ("No account entered or left the big-customer list since {date}.",
                       "自 {date} 以来没有用户进入或退出大客户名单。"),
    "big_changes": ("Since {date}: {entered} account(s) entered the big-customer list, {left} left it:",
                    "自 {date} 以来：{entered} 户进入大客户名单，{left} 户退出："),
    "over_contract": ("{n} account(s) draw more than they contracted (over-contract use, flagged for inspection).",
                      "{n} 户实际用电超出合同容量（超容用电，已列入检查）。"),
    "industries_intro": ("Each industry's consumption, growth and load shape (all regions: industries are compared "
                         "across the utility), and the big customers whose load factor is under their industry's "
                         "median, ranked by what raising it would save: the same energy at the median load factor "
                         "needs a lower peak, and each kW of peak costs the demand charge every month.",
                         "各行业的用电量、增长和负荷特性（全部地区：行业在全公司范围内对比），以及负荷率低于本行业中位数的大客户，"
                         "按提高负荷率可节省的费用排序：同样的电量在行业中位负荷率下所需的最大需量更低，而每千瓦最大需量每月都要"
                         "缴纳基本电费。"),
    "no_industries": ("No industries in this snapshot.", "本快照中没有行业数据。"),
    "no_audit": ("No big customer is under its industry's median load factor (among enough peers).",
                 "没有大客户的负荷率低于本行业中位数（在足够多的同行中）。"),
    "audit_top": ("{n} big customers are under their industry's median load factor; the first {shown}:",
                  "{n} 户大客户的负荷率低于本行业中位数；前 {shown} 户："),
    "cards_intro": ("One card per big customer (the largest by revenue first): capacity and tariff, load shape, value "
                    "tier and credit grade, consumption and its trend, load factor against its industry, service "
                    "events and the actions planned for it this period.",
                    "每户大客户一张档案卡（按电费收入从高到低）：容量与电价、负荷形态、价值分层与信用等级、用电量及其趋势、"
                    "与本行业对比的负荷率、服务事件以及本期为其安排的行动。"),
    "no_big_customers": ("No big customers.", "没有大客户。"),
    "cards_count": ("{n} big customers; the cards of the first {shown} by revenue:",
                    "共 {n} 户大客户；按电费收入排列的前 {shown} 户档案："),
    # load shapes
    "shapes_intro": ("Mean normalized profile per load shape (1 = the mean; by hour of the day for customers with "
                     "interval readings, by month for the others), with the 10-90% band.",
                     "各负荷形态的平均归一化曲线（1 = 平均值；有分时计量数据的客户按一天中的小时，其余按月份），并给出 10%-90% "
                     "区间。"),
    "no_shape_counts": ("No segments yet: no load-shape counts.", "尚无客户分层：无负荷形态统计。"),
    "no_profiles": ("No load-shape profiles yet.", "尚无负荷形态曲线。"),
    "profiles_hidden": ("Profiles of {n} shape(s) with fewer than {min} customers not shown.",
                        "{n} 种客户少于 {min} 户的负荷形态曲线不予展示。"),
    "clustering_intro": ("How the shapes were chosen: every clustering candidate (shape family x algorithm x number of "
                         "shapes k) is judged by its validity indices and its bootstrap stability; the rule in "
                         "powerlens.segmentation.clustering picks one per family. The chosen and the next best:",
                         "负荷形态的选择方法：每个聚类候选（形态族 × 算法 × 类别数 k）按有效性指标和自助法稳定性评估；"
                         "powerlens.segmentation.clustering 中的规则为每个形态族选出一个。选中的方案及其后的次优方案："),
    "no_clustering": ("No clustering comparison yet (run the segment stage).", "尚无聚类对比（请运行 segment 阶段）。"),
    # risks
    "risks_intro": ("The riskiest customers per task at the period's end, with the reasons behind each score. The "
                    "probability is the model's calibrated chance of the event in the label window, shown with the "
                    "precision it has (whole percents, one decimal below 10%, \"< 1%\" and \"> 99%\" at the ends). "
                    "The model of each task learned only from label windows that ended before the period's end (see "
                    "model health).",
                    "期末各风险任务中风险最高的客户及评分原因。概率为模型校准后在标签窗口内发生该事件的可能性，按其应有的精度显示"
                    "（整数百分比，低于 10% 保留一位小数，两端显示“< 1%”和“> 99%”）。每个任务的模型只使用在期末之前结束的标签"
                    "窗口训练（见模型健康度）。"),
    "no_scores": ("There are no scores for {task} yet.", "尚无{task}风险评分。"),
    "risk_list": ("{task}: top {shown} of {n} scored customers", "{task}：{n} 户评分客户中的前 {shown} 户"),
    # plan and review
    "plan_intro": ("Per-customer actions from the playbook, ranked and capped at each team's capacity per period "
                   "(the full list is in actions.csv next to this report).",
                   "按策略手册生成的逐户行动，排序并按各团队每期处理能力截取（完整名单见本报告旁的 actions.csv）。"),
    "no_plan": ("No playbook: no action plan.", "没有策略手册：无行动计划。"),
    "no_plan_segments": ("No segments for this period: no action plan.", "本期没有客户分层：无行动计划。"),
    "holdout_explained": ("Holdout: drawn at random from the list and left untreated on purpose, so that the action's "
                          "effect can be measured next period.",
                          "留置对照组：从名单中随机抽取并有意不施加行动，以便下期衡量行动的效果。"),
    "plan_list": ("{action}: the first {shown} of {n}", "{action}：{n} 户中的前 {shown} 户"),
    "plan_empty": ("No customer meets any action's condition.", "没有客户满足任何行动的条件。"),
    "review_intro": ("Last period's action lists against what happened to those customers since (up to this period's "
                     "end). Each list is compared with the customers next in line (eligible, but over capacity), with "
                     "all other open accounts and, where the playbook keeps one, with a random holdout. The data does "
                     "not record whether each planned contact took place, so these are the lists' outcomes, not proof "
                     "of what the actions did: only a random holdout measures an effect.",
                     "上期行动名单与这些客户此后（至本期末）的实际结果对比。每份名单与排在其后的客户（符合条件但超出处理能力）、"
                     "所有其他在网用户，以及（策略手册设有时）随机留置对照组比较。数据未记录每次计划的接触是否实际发生，因此这些"
                     "是名单的结果，而非行动效果的证明：只有随机留置对照组能衡量效果。"),
    "no_review_playbook": ("No playbook: nothing to review.", "没有策略手册：无可回顾内容。"),
    "review_suppressed": ("Review suppressed (group too small).", "回顾不予展示（群体过小）。"),
    "no_review": ("No action plan as of {date} to review (its segments or scores could not be computed).",
                  "{date} 没有可回顾的行动计划（其分层或评分无法计算）。"),
    "review_dates": ("The plan of {date}, outcomes from {date} to {end}:", "{date} 的计划，{date} 至 {end} 的结果："),
    "review_unmeasured": ("No outcome is defined in the playbook for: {actions}.", "策略手册未定义结果指标的行动：{actions}。"),
    # model health
    "health_intro": ("Validation metrics of each model family per risk task from the last training (the champion "
                     "scores the latest period), which model scored this period and what it learned from, and how far "
                     "the scores drifted since the previous period (the same model on both periods' customers).",
                     "最近一次训练中各风险任务每个模型族的验证指标（冠军模型为最新一期评分）、本期评分所用的模型及其训练数据，以及"
                     "自上期以来评分的漂移程度（同一模型分别对两期客户评分）。"),
    "no_model_metrics": ("No model metrics yet.", "尚无模型指标。"),
    "no_task_metrics": ("There are no model metrics for {task} yet.", "尚无{task}模型指标。"),
    "model_sources": ("The models that scored {period} (as of {date}):", "为 {period} 评分的模型（截至 {date}）："),
    "no_drift": ("No previous-period scores: score drift is not shown.", "没有上期评分：不展示评分漂移。"),
    "drift": ("Score drift of each model from {start} to {end}:", "各模型从 {start} 到 {end} 的评分漂移："),
    # regions
    "regions_intro": ("The load the system records per region (SCADA or the metering system), per month: energy, peak, "
                      "load factor (mean load over peak load), weather-normalized growth (this month's energy at last "
                      "year's weather against the same month a year earlier), new-load events (steps in a region's "
                      "load at average weather), and line loss (the share of the region's load that was not billed: "
                      "technical losses and theft) next to its theft scores. All over the last 12 months up to the "
                      "period, unless said otherwise.",
                      "系统（SCADA 或计量系统）按月记录的各地区负荷：电量、最大负荷、负荷率（平均负荷 / 最大负荷）、气温修正后的"
                      "增长（本月电量按去年气象条件折算后与去年同月对比）、新增负荷事件（平均气象条件下地区负荷的阶跃），以及线损"
                      "（地区负荷中未计费的部分：技术损耗和窃电）与窃电评分的对照。除另有说明外，均为截至本期的近 12 个月。"),
    "region_no_load": ("Region {region} has no load of its own in the regional analysis: the system's rows are shown.",
                       "地区 {region} 在分地区分析中没有单独的负荷数据：显示全系统数据。"),
    "growth_intro": ("Growth per month with the weather taken out (lines; the system in black), and the load factor of "
                     "the last 12 months (bars: the closer to 1, the flatter the load and the better the network is "
                     "used).",
                     "剔除气象影响后的逐月增长（折线；全系统为黑色），以及近 12 个月的负荷率（条形：越接近 1，负荷越平稳，电网"
                     "利用越充分）。"),
    "loss_intro": ("Line loss of the last 12 months against the mean theft score of the region's open accounts (this "
                   "period's theft model). A region whose loss is high for its network with many accounts on the theft "
                   "list is where inspections recover the most; a high loss with low scores points at the network "
                   "(technical losses) or at theft the model does not see.",
                   "近 12 个月线损率与地区在网用户平均窃电评分（本期窃电模型）的对照。线损偏高且窃电名单上用户较多的地区，用电"
                   "检查追回的电费最多；线损高而评分低则指向电网本身（技术损耗）或模型未识别的窃电。"),
    "sales_intro": ("Billed kWh of the last 12 months per region and customer class, its share of the region and its "
                    "change on the 12 months before (not weather-normalized). Classes with fewer customers than the "
                    "minimum group size show no kWh.",
                    "近 12 个月各地区、各用户类别的售电量、占本地区的比例及与前 12 个月相比的变化（未做气温修正）。客户数少于最小"
                    "分组人数的类别不显示电量。"),
    "steps_intro": ("Lasting steps in a region's load at average weather (a large new connection, a plant that "
                    "closed), with the level before and after.",
                    "平均气象条件下地区负荷的持续阶跃（大用户新装接电、工厂关停），及阶跃前后的负荷水平。"),
    "no_steps": ("No new-load step detected up to {date}.", "截至 {date} 未检测到新增负荷阶跃。"),
    "forecast_intro": ("The hourly forecast made a week before the period's end, from the load before it, against the "
                       "load that followed (black), with its 80% interval; and the forecast of the week ahead. The "
                       "regions add up to the system's forecast.",
                       "期末前一周根据此前负荷做出的逐时预测与随后实际负荷（黑色）的对比，附 80% 预测区间；以及未来一周的预测。"
                       "各地区预测之和等于全系统预测。"),
    "forecast_accuracy": ("The forecast of {date} for the 7 days after it, against what happened:",
                          "{date} 所做的未来 7 天预测与实际对比："),
    "backtest": ("How the forecast models did in the rolling-origin backtest (the weeks before, actual weather):",
                 "各预测模型在滚动起点回测中的表现（此前各周，实际气象）："),
    "outlook_intro": ("Monthly energy per region for the next 12 months under weather drawn from past years "
                      "(ex-ante), with its 80% interval, against the last 12 months; and what drives the change: the "
                      "region's growth with the weather taken out, and the new-load steps of the last 12 months, which "
                      "count for a full year in the next.",
                      "在历年气象情景下（事前预测）各地区未来 12 个月的逐月电量及 80% 区间，与近 12 个月对比；以及变化的驱动因素："
                      "剔除气象影响后的地区增长，和近 12 个月的新增负荷阶跃（在未来一年中将计满全年）。"),
    "outlook_months": ("Outlook {start} to {end}:", "展望期 {start} 至 {end}："),
    # alt texts of the charts drawn with an explicit alt
    "alt_regional_load": ("Monthly energy and peak per region: {regions}", "各地区逐月电量与最大负荷：{regions}"),
    "alt_growth": ("Weather-normalized growth per month and load factor per region: {regions}",
                   "各地区气温修正后的逐月增长与负荷率：{regions}"),
    "alt_loss": ("Line loss against mean theft score per region: {regions}", "各地区线损率与平均窃电评分：{regions}"),
    "alt_forecast_week": ("Hourly load against last week's forecast and the week-ahead forecast with 80% intervals: "
                          "{regions}", "逐时负荷与上周预测、未来一周预测（含 80% 区间）：{regions}"),
    "alt_outlook": ("Monthly energy of the last 12 months and the 12-month outlook with 80% intervals: {regions}",
                    "近 12 个月逐月电量与未来 12 个月展望（含 80% 区间）：{regions}"),
    # chart texts
    "fig_kpi_trends": ("12-month trend up to {period}", "截至 {period} 的 12 个月走势"),
    "fig_region_share": ("{region} against the company in {period}: its share of each KPI",
                         "{period} {region} 与全公司对比：各指标中本地区的占比"),
    "fig_region_share_x": ("share of the company (%)", "占全公司比例（%）"),
    "fig_pareto_x": ("% of customers (largest first)", "客户占比 %（从大到小）"),
    "fig_pareto_y": ("% of revenue", "电费收入占比 %"),
    "fig_pareto_title": ("Pareto: top 20% = {share} of revenue", "帕累托：前 20% 客户贡献 {share} 的电费收入"),
    "fig_shapes_hour": ("Load shapes by hour of the day", "按一天中小时的负荷形态"),
    "fig_shapes_month": ("Load shapes by month", "按月份的负荷形态"),
    "fig_shapes_mixed": ("Load shapes by hour of the day or by month", "按小时或按月份的负荷形态"),
    "fig_all_regions_suffix": (" (all regions)", "（全部地区）"),
    "fig_band": ("10-90%", "10%-90% 区间"),
    "fig_mean": ("mean", "平均"),
    "fig_hour": ("hour", "小时"),
    "fig_month": ("month", "月份"),
    "fig_tier_title": ("Customers and revenue share per value tier x credit grade", "各价值分层 × 信用等级的客户数与电费收入占比"),
    "fig_tier_cell": ("{n} customers\n{share} of revenue", "{n} 户\n收入占比 {share}"),
    "fig_credit": ("credit {grade}", "信用 {grade}"),
    "fig_scores_title": ("Risk-score distributions and where each list is cut", "风险评分分布及各名单的截止线"),
    "fig_scores_panel": ("{task}: {n} scored customers", "{task}：{n} 户评分客户"),
    "fig_scores_cut": ("list of {k} cut at {cut}", "名单 {k} 户，截止于 {cut}"),
    "fig_scores_x": ("risk score (%)", "风险评分（%）"),
    "fig_plan_title": ("The action plan against each team's capacity", "行动计划与各团队处理能力对比"),
    "fig_plan_treat": ("to treat", "施加行动"),
    "fig_plan_holdout": ("holdout", "留置对照"),
    "fig_plan_capacity": ("capacity", "处理能力"),
    "fig_customers": ("customers", "客户数"),
    "fig_tou_title": ("The ToU offer: expected yearly saving of the customers who would save, per class",
                      "分时电价推荐：各用户类别中可节省用户的预计年节省额"),
    "fig_tou_x": ("expected saving a year ({currency})", "预计年节省（{currency}）"),
    "fig_tou_bar": ("{n} customers, {saving}", "{n} 户，{saving}"),
    "fig_migration_title": ("Where last period's customers are now (value tier / credit grade; shade: share of the "
                            "row)", "上期客户现在所处的单元（价值分层 / 信用等级；颜色：占该行比例）"),
    "fig_this_period": ("this period", "本期"),
    "fig_previous_period": ("previous period", "上期"),
    "fig_health_title": ("Model health: validation ROC-AUC per family (champion dark) and score drift",
                         "模型健康度：各模型族验证 ROC-AUC（冠军为深色）与评分漂移"),
    "fig_health_panel": ("{task}: ROC-AUC by family", "{task}：各模型族 ROC-AUC"),
    "fig_health_drift": (", score drift PSI {psi}", "，评分漂移 PSI {psi}"),
    "fig_mwh_month": ("MWh per month", "月电量（MWh）"),
    "fig_energy_mwh": ("energy (MWh)", "电量（MWh）"),
    "fig_hours_missing": ("hours missing", "有缺测小时"),
    "fig_regional_title": ("Monthly energy per region (MWh)", "各地区月电量（MWh）"),
    "fig_growth_y": ("% against the same month a year earlier", "与去年同月相比 %"),
    "fig_growth_title": ("Weather-normalized growth per month", "气温修正后的逐月增长"),
    "fig_growth_none": ("less than 13 months of load: no growth yet", "负荷数据不足 13 个月：尚无增长"),
    "fig_lf_x": ("mean load / peak load, last 12 months", "近 12 个月平均负荷 / 最大负荷"),
    "fig_lf_title": ("Load factor", "负荷率"),
    "fig_loss_x": ("mean theft score of the region's accounts (%)", "地区用户平均窃电评分（%）"),
    "fig_loss_y": ("line loss, last 12 months (%)", "近 12 个月线损率（%）"),
    "fig_loss_title": ("Line loss against theft scores per region", "各地区线损率与窃电评分"),
    "fig_loss_bars_title": ("Line loss per region (no theft scores)", "各地区线损率（无窃电评分）"),
    "fig_loss_bars_small": ("Line loss per region (theft scores not shown for fewer than {n} accounts)",
                            "各地区线损率（少于 {n} 户的地区不显示窃电评分）"),
    "fig_system": ("the system", "全系统"),
    "fig_week_title": ("Hourly load: last week's forecast against what happened, and the week ahead (80% intervals)",
                       "逐时负荷：上周预测与实际对比，以及未来一周（80% 区间）"),
    "fig_week_last": ("last week's forecast", "上周预测"),
    "fig_week_actual": ("what happened", "实际"),
    "fig_week_ahead": ("the week ahead", "未来一周"),
    "fig_interval": ("{label}: 80% interval", "{label}：80% 区间"),
    "fig_outlook_title": ("Monthly energy: the last 12 months and the 12-month outlook per region",
                          "月电量：各地区近 12 个月与未来 12 个月展望"),
    "fig_outlook_last": ("last 12 months", "近 12 个月"),
    "fig_outlook_band": ("80% interval", "80% 区间"),
    "fig_outlook_line": ("outlook", "展望"),
    # the executive summary
    "sum_billed": ("In {period} the utility billed {energy}", "{period} 售电量 {energy}"),
    "sum_revenue": (" and {revenue} of revenue", "，电费收入 {revenue}"),
    "sum_changes": (" (energy {changes})", "（电量{changes}）"),
    "sum_on_last_month": ("{change} on last month", "环比 {change}"),
    "sum_on_period": ("{change} on {period}", "较 {period} {change}"),
    "sum_join": (", ", "，"),
    "sum_end": (".", "。"),
    "sum_on_time": ("{rate} of the bills due were paid in full on time", "到期账单按期足额缴清率为 {rate}"),
    "sum_on_time_change": (" ({points} points on last month)", "（环比 {points} 个百分点）"),
    "sum_arrears": ("; past-due arrears stand at {amount}", "；逾期欠费余额 {amount}"),
    "sum_arrears_change": (" ({change})", "（{change}）"),
    "sum_plan": ("The action plan lists {n} customers: {listed}.", "行动计划共列出 {n} 户客户：{listed}。"),
    "sum_plan_item": ("{n} {action}", "{action} {n} 户"),
    "sum_plan_top": ("The largest by expected revenue is {action}: {n} customers, {value} of expected revenue at stake.",
                     "预期收入最大的是{action}：{n} 户客户，涉及预期收入 {value}。"),
    "sum_shifted": ("Risk scores shifted since last month for {names}: check the model before acting on its list.",
                    "以下任务的风险评分自上月以来发生漂移：{names}；请先检查模型再按其名单行动。"),
    "sum_shifted_item": ("{task} (PSI {psi})", "{task}（PSI {psi}）"),
    "sum_stable": ("Risk scores are stable against last month (population stability index below {psi} for every "
                   "task).", "风险评分与上月相比保持稳定（各任务的群体稳定性指数均低于 {psi}）。"),
    "sum_service_broken": ("{n} service KPI(s) break their target in {period} ({regions})",
                           "{period} 有 {n} 项服务指标未达标（{regions}）"),
    "sum_service_ok": ("Every service KPI meets its target in {period}", "{period} 所有服务指标均达标"),
    "sum_service_follow": ("; {closed} of last month's {n} rectification items are closed",
                           "；上月 {n} 项整改项中已关闭 {closed} 项"),
    "sum_region": ("{region} grows fastest: {growth} a year, weather-normalized.",
                   "{region} 增长最快：气温修正后年增长 {growth}。"),
    # cards
    "card_class_industry": ("class, industry", "用户类别、行业"),
    "card_region": ("region", "地区"),
    "card_capacity": ("capacity", "合同容量"),
    "card_at_kv": (" at {kv} kV", "，{kv} kV"),
    "card_tariff": ("tariff", "电价"),
    "card_two_part": ("two-part", "两部制"),
    "card_single_part": ("single-part", "单一制"),
    "card_tou": (", time-of-use", "，峰谷分时电价"),
    "card_load_shape": ("load shape", "负荷形态"),
    "card_tier_credit": ("value tier, credit", "价值分层、信用"),
    "card_grade": ("{tier}, grade {grade}", "{tier}，信用等级 {grade}"),
    "card_energy": ("energy 12 months", "近 12 个月电量"),
    "card_revenue": ("revenue 12 months", "近 12 个月电费"),
    "card_trend": ("trend", "趋势"),
    "card_per_year": ("% per year", "% / 年"),
    "card_peak_lf": ("peak, load factor", "最大负荷、负荷率"),
    "card_percentile": (" (percentile {p} in its industry)", "（行业内第 {p} 百分位）"),
    "card_service": ("service, 12 months", "近 12 个月服务"),
    "card_service_text": ("{complaints} complaints, {faults} fault reports, {requests} capacity requests",
                          "投诉 {complaints} 次，故障报修 {faults} 次，增容申请 {requests} 次"),
    "card_actions": ("actions this period", "本期行动"),
    "card_action_rank": ("{action} (rank {rank})", "{action}（第 {rank} 位）"),
    "card_none": ("none", "无"),
    # table texts
    "table_first_rows": ("The first {shown} of {n} rows are shown.", "仅显示 {n} 行中的前 {shown} 行。"),
    "target_at_most": ("at most {target}", "不高于 {target}"),
    "target_at_least": ("at least {target}", "不低于 {target}"),
    "tier_cell": ("{n} customers, {share} of revenue — {strategy}", "{n} 户，收入占比 {share} — {strategy}"),
    "outlook_growth": ("weather-normalized growth {growth} y/y", "气温修正后同比增长 {growth}"),
    "outlook_steps": ("{n} new-load step(s) of {kw} kW{when}: {share} from a full year of them",
                      "{n} 次新增负荷阶跃，共 {kw} kW{when}：计满全年带来 {share}"),
    "outlook_last_on": (", last on {date}", "，最近一次 {date}"),
    "outlook_join": ("; ", "；"),
}


# --------------------------------------------------------------------------- words: labels and values
# Column labels and the domain's words, keyed by the English text (or the snake_case name) the
# tables carry; the English column is what the English report shows.

WORDS: dict[str, tuple[str, str]] = {
    # identities and common columns
    "customer_id": ("customer", "客户"), "customer": ("customer", "客户"), "region": ("region", "地区"),
    "customer_class": ("customer class", "用户类别"), "customer class": ("customer class", "用户类别"),
    "industry": ("industry", "行业"), "customers": ("customers", "户数"), "accounts": ("accounts", "户数"),
    "task": ("task", "任务"), "family": ("family", "模型族"), "model": ("model", "模型"), "rank": ("rank", "排名"),
    "probability": ("probability", "概率"), "reasons": ("reasons", "原因"), "why": ("why", "原因"),
    "reason": ("reason", "原因"), "strategy": ("strategy", "策略"), "change": ("change", "变化"),
    "value": ("value", "数值"), "target": ("target", "目标"), "now": ("now", "现值"), "status": ("status", "状态"),
    "month": ("month", "月份"), "from": ("from", "起"), "to": ("to", "止"), "KPI": ("KPI", "指标"),
    "load shape": ("load shape", "负荷形态"), "load_shape": ("load shape", "负荷形态"),
    "value tier": ("value tier", "价值分层"), "value_tier": ("value tier", "价值分层"),
    "credit grade": ("credit grade", "信用等级"), "credit_grade": ("credit grade", "信用等级"),
    "previous period": ("previous period", "上期"), "this period": ("this period", "本期"),
    # KPIs
    "kwh": ("billed energy", "售电量"), "revenue": ("revenue", "电费收入"),
    "on_time_rate": ("paid on time", "按期足额缴费率"), "arrears_amount": ("past-due arrears", "逾期欠费"),
    "accounts_closed": ("accounts closed", "销户数"), "thefts_confirmed": ("thefts confirmed", "查实窃电"),
    "active accounts": ("active accounts", "活跃户数"), "company": ("company", "全公司"),
    "share of the company": ("share of the company", "本地区占比"),
    # service and payments
    "complaints per 10,000 accounts": ("complaints per 10,000 accounts", "每万户投诉数"),
    "fault resolution, median": ("fault resolution, median", "故障处理时长中位数"),
    "fault resolution, 90th percentile": ("fault resolution, 90th percentile", "故障处理时长 90 分位"),
    "callback satisfaction": ("callback satisfaction", "回访满意度"),
    "new connection lead time, median": ("new connection lead time, median", "新装接电时长中位数"),
    "hours": ("hours", "小时"), "days": ("days", "天"),
    "closed": ("closed", "已关闭"), "still open": ("still open", "未关闭"),
    "digital share then": ("digital share then", "当时线上缴费占比"),
    "digital share now": ("digital share now", "现在线上缴费占比"),
    "change per year": ("change per year", "年变化"), "payments": ("payments", "缴费笔数"),
    "at a counter": ("at a counter", "柜台缴费笔数"), "counter share": ("counter share", "柜台缴费占比"),
    # tiers, strategies, migration
    "high": ("high", "高价值"), "medium": ("medium", "中价值"), "low": ("low", "低价值"),
    "new": ("new", "新增"), "left": ("left", "销户"), "entered": ("entered", "进入"),
    "high/A": ("high/A", "高/A"), "high/B": ("high/B", "高/B"), "high/C": ("high/C", "高/C"),
    "medium/A": ("medium/A", "中/A"), "medium/B": ("medium/B", "中/B"), "medium/C": ("medium/C", "中/C"),
    "low/A": ("low/A", "低/A"), "low/B": ("low/B", "低/B"), "low/C": ("low/C", "低/C"),
    # customer classes
    "residential": ("residential", "居民生活"), "commercial": ("commercial", "商业"),
    "general_industrial": ("general industrial", "一般工商业"), "large_industrial": ("large industrial", "大工业"),
    "agricultural": ("agricultural", "农业生产"), "public": ("public", "公共事业"),
    # big customers
    "big": ("big", "大客户"), "latent big": ("latent big", "潜在大客户"),
    "value score": ("value score", "价值得分"), "potential value": ("potential value", "潜在价值"),
    "energy 12 months": ("energy 12 months", "近 12 个月电量"), "share of energy": ("share of energy", "电量占比"),
    "growth (per year)": ("growth (per year)", "年增长"), "median load factor": ("median load factor", "负荷率中位数"),
    "share of summed peaks": ("share of summed peaks", "最大负荷合计占比"), "kWh per kVA": ("kWh per kVA", "每 kVA 电量（kWh）"),
    "load factor": ("load factor", "负荷率"), "industry median": ("industry median", "行业中位数"),
    "peak now": ("peak now", "现最大负荷"), "peak at the median": ("peak at the median", "中位负荷率下最大负荷"),
    "estimated annual saving": ("estimated annual saving", "预计年节省"),
    # load-shape clustering
    "algorithm": ("algorithm", "算法"), "k": ("k", "类别数 k"), "silhouette": ("silhouette", "轮廓系数"),
    "davies_bouldin": ("Davies-Bouldin", "DB 指数"), "calinski_harabasz": ("Calinski-Harabasz", "CH 指数"),
    "cdi": ("CDI", "CDI 指数"), "mia": ("MIA", "MIA 指数"), "stability (ARI)": ("stability (ARI)", "稳定性（ARI）"),
    "chosen": ("chosen", "选中"), "intraday": ("intraday", "日内"), "daily": ("daily", "逐日"),
    "kmeans": ("k-means", "k 均值"), "gmm": ("Gaussian mixture", "高斯混合"), "agglomerative": ("agglomerative", "层次聚类"),
    # risks
    "churn": ("churn", "流失"), "arrears": ("arrears", "欠费"), "theft": ("theft", "窃电"),
    # plan
    "action": ("action", "行动"), "capacity": ("capacity", "处理能力"), "rank by": ("rank by", "排序依据"),
    "planned": ("planned", "计划户数"), "holdout": ("holdout", "留置对照"), "what": ("what", "内容"),
    "priority": ("priority", "优先级"), "yes": ("yes", "是"), "no": ("no", "否"),
    "score": ("risk score", "风险评分"), "expected_revenue": ("expected revenue", "预期电费收入"),
    "value_score": ("value score", "价值得分"), "efficiency_annual_saving": ("estimated annual saving", "预计年节省"),
    "over_contract_kva": ("kVA over contract", "超容量（kVA）"), "share_counter": ("counter share", "柜台缴费占比"),
    "revenue_12m": ("revenue 12 months", "近 12 个月电费"),
    "inspection": ("inspection", "用电检查"), "retention_contact": ("retention contact", "客户挽留"),
    "collection_plan": ("collection plan", "电费回收计划"), "prepaid_meter": ("prepaid meter", "预付费电表"),
    "development_visit": ("development visit", "潜在大客户拓展走访"),
    "vip_account_manager": ("VIP account manager", "大客户经理"),
    "efficiency_audit": ("efficiency audit", "能效诊断"),
    "over_contract_inspection": ("over-contract inspection", "超容用电检查"),
    "arrears_warning": ("arrears warning", "欠费催缴通知"), "arrears_restriction": ("arrears restriction", "欠费限电通知"),
    "disconnection_notice": ("disconnection notice", "欠费停电通知"),
    "e_payment_campaign": ("e-payment campaign", "线上缴费推广"), "theft_reinspection": ("theft re-inspection", "窃电复查"),
    "tou_offer": ("ToU offer", "峰谷分时电价推荐"),
    "average price per kWh": ("average price per kWh", "平均电价（每千瓦时）"),
    "act by": ("act by", "办理期限"),
    "peak share of the bill": ("peak share of the bill", "峰段电费占比"),
    "price sensitivity (median)": ("price sensitivity (median)", "价格敏感度（中位数）"),
    "ToU candidates": ("ToU candidates", "分时电价推荐户数"),
    "expected saving a year": ("expected saving a year", "预计年节省"),
    "load-factor gain (mean)": ("load-factor gain (mean)", "负荷率提升（平均）"),
    # review
    "group": ("group", "组别"), "outcome": ("outcome", "结果"), "measured": ("measured", "可衡量户数"),
    "with outcome": ("with outcome", "发生结果户数"), "rate": ("rate", "比例"),
    "on the list": ("on the list", "名单内"), "random holdout (left out on purpose)": (
        "random holdout (left out on purpose)", "随机留置对照（有意不施加）"),
    "next in line (eligible, over capacity)": ("next in line (eligible, over capacity)", "排队客户（符合条件、超出处理能力）"),
    "all other open accounts": ("all other open accounts", "其他所有在网用户"),
    "closed their account": ("closed their account", "已销户"),
    "inspected and theft confirmed (share of those inspected)": (
        "inspected and theft confirmed (share of those inspected)", "检查查实窃电（占被检查者比例）"),
    "paid off their past-due balance (share of those in arrears)": (
        "paid off their past-due balance (share of those in arrears)", "结清逾期欠费（占欠费者比例）"),
    "asked for a capacity increase": ("asked for a capacity increase", "申请增容"),
    "paid by a digital channel (share of those who paid)": (
        "paid by a digital channel (share of those who paid)", "通过线上渠道缴费（占缴费者比例）"),
    "theft_confirmed": ("theft confirmed", "查实窃电"), "arrears_cured": ("arrears cured", "欠费结清"),
    "capacity_increase": ("capacity increase", "增容"), "paid_digitally": ("paid digitally", "线上缴费"),
    # model health
    "champion": ("champion", "冠军模型"), "roc_auc": ("ROC-AUC", "ROC-AUC"), "pr_auc": ("PR-AUC", "PR-AUC"),
    "lift_at_10pct": ("lift at 10%", "前 10% 提升度"), "brier": ("Brier score", "Brier 分数"),
    "positives": ("positives", "正例数"), "n": ("n", "样本数"),
    "trained on cut-offs": ("trained on cut-offs", "训练截止日"), "validated on": ("validated on", "验证截止日"),
    "validation ROC-AUC": ("validation ROC-AUC", "验证 ROC-AUC"), "validation PR-AUC": ("validation PR-AUC", "验证 PR-AUC"),
    "validation Brier score": ("validation Brier score", "验证 Brier 分数"),
    "mean score last period": ("mean score last period", "上期平均评分"), "mean score now": ("mean score now", "本期平均评分"),
    "PSI": ("PSI", "PSI（群体稳定性指数）"),
    "lightgbm": ("LightGBM", "LightGBM"), "logistic": ("logistic regression", "逻辑回归"),
    "histgb": ("histogram gradient boosting", "直方图梯度提升"), "blend": ("blend", "融合模型"),
    # regions
    "peak": ("peak", "最大负荷"), "growth (weather-normalized, y/y)": ("growth (weather-normalized, y/y)", "气温修正同比增长"),
    "new-load steps": ("new-load steps", "新增负荷阶跃"), "line loss": ("line loss", "线损率"),
    "theft-scored accounts": ("theft-scored accounts", "窃电评分户数"), "mean theft score": ("mean theft score", "平均窃电评分"),
    "accounts in theft top": ("accounts in theft top", "窃电名单前列户数"),
    "level before": ("level before", "阶跃前水平"), "level after": ("level after", "阶跃后水平"),
    "step": ("step", "阶跃"), "billed 12 months": ("billed 12 months", "近 12 个月售电量"),
    "share of the region": ("share of the region", "占本地区比例"),
    "growth (y/y, not weather-normalized)": ("growth (y/y, not weather-normalized)", "同比增长（未做气温修正）"),
    "MAPE": ("MAPE", "MAPE（平均绝对百分比误差）"), "bias": ("bias", "偏差"),
    "hours inside the 80% interval": ("hours inside the 80% interval", "落在 80% 区间内的小时占比"),
    "variant": ("variant", "模型方案"), "MAPE total": ("MAPE total", "全系统 MAPE"),
    "MAPE regions (mean)": ("MAPE regions (mean)", "各地区 MAPE 均值"),
    "80% coverage total": ("80% coverage total", "全系统 80% 覆盖率"),
    "80% coverage regions": ("80% coverage regions", "各地区 80% 覆盖率"), "MASE total": ("MASE total", "全系统 MASE"),
    "MASE regions (mean)": ("MASE regions (mean)", "各地区 MASE 均值"), "pinball total": ("pinball total", "全系统分位损失"),
    "last 12 months": ("last 12 months", "近 12 个月"), "next 12 months": ("next 12 months", "未来 12 个月"),
    "peak last 12 months": ("peak last 12 months", "近 12 个月最大负荷"),
    "peak next 12 months": ("peak next 12 months", "未来 12 个月最大负荷"), "drivers": ("drivers", "驱动因素"),
    "total": ("total", "全系统"),
    "reading": ("reading", "判读"), "stable": ("stable", "稳定"), "shift: check the model": (
        "shift: check the model", "发生漂移：请检查模型"),
    # the synthetic utility's industries (a real source's own names are shown as they are)
    "household": ("household", "居民家庭"), "retail": ("retail", "零售"), "hospitality": ("hospitality", "住宿餐饮"),
    "offices": ("offices", "商务办公"), "logistics": ("logistics", "物流仓储"), "manufacturing": ("manufacturing", "制造业"),
    "food_processing": ("food processing", "食品加工"), "textiles": ("textiles", "纺织"), "plastics": ("plastics", "塑料制品"),
    "metals": ("metals", "金属冶炼"), "chemicals": ("chemicals", "化工"), "cement": ("cement", "水泥"),
    "paper": ("paper", "造纸"), "irrigation": ("irrigation", "农业排灌"), "greenhouse": ("greenhouse", "温室大棚"),
    "livestock": ("livestock", "畜牧养殖"), "schools": ("schools", "学校"), "hospitals": ("hospitals", "医院"),
    "government": ("government", "机关单位"), "street_lighting": ("street lighting", "路灯照明"),
}

_UNIT = re.compile(r"^(.*?) \(([^()]*)\)$")
_CJK = re.compile(r"[\u3400-\u9fff]")


def has_cjk(text: str) -> bool:
    """Whether the text has a Chinese character."""
    return bool(_CJK.search(str(text)))


def t(key: str, language: str, **fmt: object) -> str:
    """The catalog's text for `key` in the language, formatted with `fmt`."""
    return TEXT[key][_INDEX[check_language(language)]].format(**fmt)


def word(text: object, language: str, spell_out: bool = True) -> str:
    """A label or domain word in the language: looked up by its text, then without a trailing
    unit in brackets (kept as is), then by the words of a load-shape name; otherwise the text
    itself (a snake_case label spelled with spaces in English, unless spell_out is False)."""
    key = str(text)
    i = _INDEX[check_language(language)]
    if key in WORDS:
        return WORDS[key][i]
    unit = _UNIT.match(key)
    if unit and unit.group(1) in WORDS:
        measure = WORDS[unit.group(2)][i] if unit.group(2) in WORDS else unit.group(2)  # hours, days; MWh as is
        return f"{WORDS[unit.group(1)][i]} ({measure})" if i == 0 else f"{WORDS[unit.group(1)][i]}（{measure}）"
    numbered = re.match(r"^(.*) (\d+)$", key)  # "accounts in theft top 20"
    if numbered and numbered.group(1) in WORDS:
        return f"{WORDS[numbered.group(1)][i]} {numbered.group(2)}"
    shape = shape_name(key, language)
    if shape is not None:
        return shape
    return key.replace("_", " ") if spell_out and i == 0 and re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", key) else key


def value_word(text: str, language: str) -> str:
    """A table cell's text in the language when it is one of the domain's words (a tier, a
    class, an action, a status...) or a load-shape name; any other text (from data) as it is."""
    return word(text, language, spell_out=False)


# the words of the load-shape names of powerlens.segmentation.clustering.name_cluster
SHAPE_WORDS: dict[str, tuple[str, str]] = {
    "night_lighting": ("night lighting", "夜间照明型"), "seasonal_agri": ("seasonal agricultural", "季节性农业型"),
    "flat_multishift": ("flat multi-shift", "平稳多班制型"), "daytime_weekday": ("daytime weekday", "工作日白天型"),
    "double_peak": ("double peak", "双峰型"), "evening_peak": ("evening peak", "晚高峰型"),
    "strong_winter_peak": ("strong winter peak", "冬季强高峰"), "winter_peaking": ("winter peaking", "冬季高峰"),
    "mild_winter_peak": ("mild winter peak", "冬季弱高峰"), "flat_seasonal": ("flat across seasons", "季节平稳"),
    "mild_summer_peak": ("mild summer peak", "夏季弱高峰"), "summer_peaking": ("summer peaking", "夏季高峰"),
    "weekend_heavy": ("weekend-heavy", "周末偏重"), "weekday_heavy": ("weekday-heavy", "工作日偏重"),
    "high_base_load": ("high base load", "基础负荷高"), "peaky": ("peaky", "尖峰明显"),
}


def shape_name(name: str, language: str) -> str | None:
    """A load-shape name (e.g. winter_peaking_weekday_heavy_peaky) in words, or None when it is
    not one of the names the segmentation gives."""
    rest, parts = str(name), []
    while rest:
        match = next((k for k in sorted(SHAPE_WORDS, key=len, reverse=True)
                      if rest == k or rest.startswith(k + "_")), None)
        if match is None:
            return None
        parts.append(SHAPE_WORDS[match][_INDEX[language]])
        rest = rest[len(match) + 1:]
    return (", " if language == "en" else "，").join(parts) if parts else None


def heading(key: str, language: str, level: int = 2, **fmt: object) -> str:
    """A section heading as HTML with the section's stable id (the key), text escaped."""
    return f'<h{level} id="{escape(key, quote=True)}">{escape(t(key, language, **fmt))}</h{level}>'


def paragraph(text: str, css: str = "pl-text") -> str:
    """A paragraph of prose, escaped."""
    return f'<p class="{escape(css, quote=True)}">{escape(str(text))}</p>'


# --------------------------------------------------------------------------- numbers with units

def energy(kwh: float, language: str = "en") -> str:
    """Energy in the unit that reads best: kWh, MWh or GWh."""
    a = abs(kwh)
    if a >= 1e6:
        return f"{kwh / 1e6:,.1f} GWh"
    if a >= 1e4:
        return f"{kwh / 1e3:,.0f} MWh"
    return f"{kwh:,.0f} kWh"


def money(amount: float, currency: str) -> str:
    """An amount with its currency, without decimals."""
    return f"{amount:,.0f} {currency}"
