# ruff: noqa: E501  (the comment bank below holds long, hand-written survey answers)
"""Generate koe's shipped sample survey (samples/survey.csv) and the test fixture
(tests/fixtures/mini_survey.csv).

Everything here is synthetic: the comments were written by hand for this project and the
customers, dates and segments are drawn from a seeded random generator, so re-running the script
reproduces the files byte for byte. Standard library only.

    python samples/make_sample.py

Bank line format:  score | hints | text
  hints (space separated, optional):
    sp kn ac pr bu with + or -   sub-score tendency (speed, knowledge, accuracy, proposal,
                                 business understanding)
    S       part of the late-October spike (a release that made reports slow / broke them):
            dated 2026-10-20 or later
    en/mix  English / mixed Japanese-English (informational; also used for the README counts)
    sm      small company (1-49);  ent  Enterprise plan;  paid  not the Free plan;  free  Free
    kp      answered by a key person;  ev  came in via an event;  ph  via phone
    nodate  the date cell is left empty (allowed, not a bad row)
  "\\n" in a text is a line break inside the (quoted) cell.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SURVEY = HERE / "survey.csv"
MINI = HERE.parent / "tests" / "fixtures" / "mini_survey.csv"

COLUMNS = [
    "id",
    "customer_id",
    "date",
    "score",
    "text",
    "sub_speed",
    "sub_knowledge",
    "sub_accuracy",
    "sub_proposal",
    "sub_business_understanding",
    "plan",
    "company_size",
    "channel",
    "role",
]
SUBS = {
    "sp": "sub_speed",
    "kn": "sub_knowledge",
    "ac": "sub_accuracy",
    "pr": "sub_proposal",
    "bu": "sub_business_understanding",
}

BANK = r"""
# --- support response speed -------------------------------------------------------------
9 | sp+ | 問い合わせへの返信がいつも早く、業務が止まらずに済んでいます。
9 | sp+ | サポートのレスポンスが早い。
10 | sp+ kn+ | チャットで質問すると数分で返ってくるので本当に助かっています。担当の方も詳しいです。
9 | sp+ | 対応スピードが速く、困ったときにすぐ相談できる安心感がある。
10 | sp+ | 問合せしたら当日中に回答をもらえた。他社ではありえない早さ。
9 | sp+ | お問い合せへのレスポンスが迅速で、ストレスなく使えています。
8 | sp+ | 返信は早いと思います。内容はまあまあ。
9 | sp+ | サポの返信が爆速👍
10 | sp+ ac+ | 夜に送った問い合わせに翌朝には回答が来ていて驚きました。内容も的確でした。
9 | sp+ | 問合せ対応が早いのでストレスがない。
3 | sp- | 問い合わせの返事が遅すぎる。3日待たされた。
4 | sp- | サポートに連絡しても返信が来るまで時間がかかる。急ぎの時に困ります。
2 | sp- | 問合せの返信が遅い。もう少し早くしてほしい。
5 | sp- | メールで問い合わせたが、２営業日たっても回答がなかった。
3 | sp- ph | 電話がつながらない。折り返しも遅い。
6 | sp- kn+ | 説明は丁寧だが、返信が遅い。
7 | sp- ac+ | 回答の内容には満足していますが、レスポンスがもう少し早ければ文句なしです。
4 | sp- | 問い合せてから返信までに一週間近くかかったことがあり、その間レポートが出せず社内で説明に困りました。
5 | sp- | 対応スピードにムラがある。早い時は早いが、遅い時は本当に遅い。
4 | sp- | 至急とお伝えしたのに、返信は翌週でした。
9 | sp+ | レスポンスは遅くないし、質問にもきちんと答えてもらえるので不満はないです。
9 | sp+ | 返信が遅いと感じたことは一度もないです。
8 | sp+ | 返事が遅くないのでストレスはない。
10 | sp+ en | The support team is always quick to respond and very helpful.
9 | sp+ en | Support replies are fast, usually within an hour.
4 | sp- en | It takes days to get an answer from support.
9 | sp+ en | Response times are not slow at all, which I really appreciate.
3 | sp- en | Waited 5 days for a reply to a simple billing question.
# --- accuracy ---------------------------------------------------------------------------
9 | ac+ | お問い合わせへの回答が的確で、一度のやりとりで解決しました。
10 | ac+ kn+ | 質問の意図をすぐに汲み取って、的確な回答をくれる。
3 | ac- | 回答が間違っていて、その通りに設定したらデータが消えた。
4 | ac- | サポートの回答にミスがあり、二度手間になった。
5 | ac- | 担当によって言うことが違う。どれが正しいのか分からない。
2 | ac- sp- | 何度も同じ説明をさせられた挙句、最終的に間違った案内をされた。
6 | sp+ ac- | 回答は早いけど、ちょっとズレていることが多い。
5 | ac- | 請求金額にミスがあった。すぐ訂正してもらえたが、確認はしっかりしてほしい。
3 | ac- | 問い合わせても的外れな回答しか返ってこないので、結局自分で調べた。
8 | ac+ | 回答は正確。ただ、もう少し噛み砕いて説明してもらえるとありがたい。
9 | ac+ | 回答にミスがなく、安心して任せられます。
4 | ac- | 案内された手順に誤りがあり、設定をやり直すことになりました。
4 | ac- en | The answer we got from support was wrong and cost us a full day.
9 | ac+ en | Accurate answers, no back-and-forth needed.
# --- staff knowledge -------------------------------------------------------------------
10 | kn+ | 広告運用にも詳しく、ツール以外の相談にも乗ってもらえる。
9 | kn+ | GA4との違いなど、細かい仕様までよくご存じで頼りになります。
4 | kn- | 担当の方がツールの仕様をあまり理解していない印象。
5 | kn- | サポートに聞いても「確認します」ばかりで、知識が足りないと感じる。
3 | kn- ac- | 専門的な質問をするとたらい回しにされる。詳しい人につないでほしい。
9 | kn+ paid | カスタマーサクセスの方が非常に詳しく、社内勉強会までしてくださいました。
7 | kn+ sp- | 知識はあるが、忙しそうでなかなか捕まらない。
10 | kn+ | どんな質問にも即答できるくらい知識が豊富で、毎回勉強になります。
8 | kn+ | サポートの方はみなさん製品に詳しい。
10 | kn+ en paid | Our CSM really knows the product inside out.
# --- proposals / feedback --------------------------------------------------------------
10 | pr+ bu+ | こちらから聞く前に改善の提案をしてくれる。まさにパートナーという感じ。
9 | pr+ | データから仮説を出してくれるので、社内の議論が進むようになった。
6 | pr- | 質問には答えてくれるが、提案はほとんどない。もっと踏み込んだ提案が欲しい。
5 | pr- paid | 定例会が数字の読み上げだけで終わる。示唆や次のアクションの提案がほしい。
7 | pr+ bu- | 提案の方向性は良いが、弊社のリソースでは実行が難しいものが多い。
8 | pr+ paid | 月次レポートに改善提案を添えてくれるのがありがたい。
4 | pr- bu- | 他社事例の紹介ばかりで、うちに合った提案がない。
9 | pr+ | 仮説立てから一緒にやってくださり、CVRが改善しました。
7 | pr+ sp- | 提案内容は素晴らしいが、スピード感がない。
7 | pr- | 担当の方は良い人だが、提案がワンパターン。
9 | pr+ en paid | The monthly review always comes with concrete suggestions we can act on.
# --- understanding of our business -----------------------------------------------------
10 | bu+ | 弊社の業界特有の事情をよく理解してくれていて、話が早い。
9 | bu+ pr+ | BtoB特有の長い検討期間を踏まえた分析方法を提案してもらえた。
4 | bu- | 業界理解が浅く、毎回前提から説明しないといけない。
3 | bu- | 担当が変わるたびに弊社の事情を一から説明させられる。
6 | bu- | うちのビジネスモデルを理解してもらえていない気がします。
8 | bu+ sp- | 業界理解は十分。あとはもう少しレスポンスが早ければ。
9 | bu+ | 弊社の事情をくみ取って、無理のない運用方法を考えてくれた。
5 | bu- en | They don't really understand our business model yet.
# --- onboarding / initial setup --------------------------------------------------------
10 | | 導入時のサポートが手厚く、スムーズに立ち上げられました。
9 | | 初期設定を一緒に画面共有しながら進めてくれて、とても分かりやすかった。
4 | | 初期設定が複雑で、導入に想定以上の時間がかかった。
5 | | オンボーディングの資料が古く、今の画面と違っていて戸惑った。
3 | | 導入時の説明が駆け足で、結局ほとんど自分たちで設定しました。
8 | | 導入はスムーズ。タグの設置だけ少し手間取った。
7 | | オンボーディングは丁寧だったが、その後のフォローがない。
9 | | キックオフから運用開始まで２週間で出来たのは良かった。
6 | | 導入時のトレーニングが１回きりだったので、もう少しフォローがほしかった。
8 | | オンボーディングのチェックリストが分かりやすかった。
4 | ac- | 初期設定の手順書の通りにやってもエラーが出る。
9 | en | Onboarding was smooth and well organized.
# --- how to use / operation unclear ----------------------------------------------------
5 | | 使い方がわからないところが多く、活用しきれていない。
4 | | 操作が難しい。もっと直感的に使えるようにしてほしい。
6 | | 機能が多すぎて、どこから触ればいいのか分からない。
5 | | セグメントの作り方が解りにくい。マニュアルを読んでもピンとこない。
3 | | 操作方法が複雑で、社内で使える人が私しかいない。
7 | | 慣れれば便利だが、最初は操作がとっつきにくかった。
6 | | フィルタの条件設定がわかりにくいです。
8 | | 使い方が難しいということもなく、すぐ慣れました。
9 | | 操作で迷うことはほとんどない。
6 | en | The interface is hard to figure out for new team members.
# --- best practices / how to get value -------------------------------------------------
6 | | ツールは良いが、活用方法がいまいち分からない。他社の成功事例を教えてほしい。
7 | | 同業他社がどう使っているのか知りたい。
5 | pr- | データは取れているが、それをどう施策に活かせばいいかが分からない。
8 | pr+ | 活用方法の相談に乗ってもらえるのはありがたい。成功事例集があればもっと嬉しい。
7 | | 成功事例のセミナーがあれば参加したいです。
6 | | 導入したものの、効果的な使い方が社内に浸透していない。ベストプラクティスを知りたい。
# --- feature requests ------------------------------------------------------------------
5 | | レポート機能が使いにくいので、もっと自由に項目を組めるよう改善してほしい。
7 | | CSV出力の項目を自由に選べるようにしてほしい。
8 | | ダッシュボードをPDFで書き出せる機能があれば嬉しい。
7 | | 権限設定をもっと細かく出来るようにしていただけると助かります。
7 | | Slack通知機能があれば便利だと思います。
8 | | スケジュール配信で複数の宛先に送れるようにしてほしいです。
7 | | ＣＳＶの文字コードをShift_JISで出せるようにしていただけると助かります。Excelで開くと文字化けするので。
7 | | 前年同月比を一画面で見られる機能がほしい。
8 | | 全体的に満足。強いて言えば、グラフの色を変えられると嬉しい。
7 | | 英語のレポートテンプレートを用意していただけると助かります。
7 | | ダッシュボードの共有リンクに有効期限を設定出来ると嬉しい。
7 | | 請求書をPDFでダウンロードできるようにしていただけると助かります。
7 | | SSOに対応してほしい。情シスから毎回言われます。
8 | | CSVだけでなくExcel形式でも出力できるとありがたいです。
7 | en | Would love an option to schedule CSV exports.
7 | mix | 全体的には good ですが、export機能が limited なのが残念。
# --- bugs ------------------------------------------------------------------------------
3 | | ログイン後に画面が真っ白になる不具合が何度か起きている。
2 | | アプリが頻繁に落ちる。保存前のデータが消えた。
4 | | CSVダウンロードでエラーになることがある。再実行すると通るが不安。
3 | sp- | バグ報告をしてから1か月経つが、まだ直っていない。
8 | | たまにグラフが表示されないバグがある以外は概ね満足。
9 | | エラーもほとんど出ず、安定して使えています。
4 | | ＡＰＩ経由でデータを取り込むと、たまに500エラーが返ってくる😭
3 | | 保存ボタンを押すとエラーが出て設定が消える。何度もやり直しました。
3 | en | The dashboard crashes when I filter by a custom date range.
# --- performance -----------------------------------------------------------------------
4 | | 画面が重い。特にレポートを開くときに時間がかかる。
5 | | データ量が多いと表示に時間がかかる。
8 | | 動作は軽く、特に不満はありません。
9 | | 以前より表示が速くなった気がします👍
7 | | 期間を1年にすると集計が遅い。もう少し速くなると嬉しいです。
8 | en | Performance is fine, not slow at all.
# --- spike: the 2026-10-20 release made reports slow / broke them ----------------------
2 | S | 先週のアップデート以降、レポートの表示が異常に遅い。仕事にならない。
1 | S | アップデート後からダッシュボードが開かなくなった。至急直してほしい。
3 | S | 10月のリリース後、レポート出力に5分以上かかるようになった。前は数秒だったのに。
0 | S paid | アップデートしてからレポートがタイムアウトして見られない。会議資料が作れず困っています。
2 | S | 最新バージョンにしてからグラフが表示されないエラーが頻発しています。
3 | S | レポートが重すぎる😭 アップデート前に戻してほしい。
4 | S | アップデートで画面は見やすくなったけど、表示が遅くなった。
2 | S sp- ac- | 月次レポートが作れない。問い合わせたら「調査中」とだけ返ってきて、その後連絡がない。
1 | S ent kp | リリース後のバグのせいで、クライアントへのレポート提出が遅れた。信用問題です。
3 | S | ダッシュボードの読み込みが終わらない。何度リロードしても同じ。
5 | S sp+ | アップデート後、レポートのCSV出力でエラーが出る。回避策はすぐ教えてもらえたが早く直してほしい。
2 | S en | Since the latest update, reports take forever to load.
3 | S en | Reports have been timing out since the October release. Please fix ASAP.
4 | S mix | アップデート後 report の loading が very slow です。
6 | S kn+ | レポート表示が遅くなった件、サポートの方の対応は丁寧でした。早期の改善をお願いします。
2 | S | 不具合の告知がなく、こちらの設定ミスかと思って半日調べてしまった。
3 | S | アップデートのたびに何か壊れる。テストしてからリリースしてほしい。
4 | S | レポートが遅い件、いつ直るのか見通しだけでも教えていただけると助かります。
1 | S kp | レポート画面が重くて使い物にならない。解約も検討しています。
3 | S | <br>10/20のアップデート以降、レポートの集計が終わりません。<br>至急対応をお願いします。
5 | S | アップデート後レポートが重い。それ以外は満足しているので早めの対応を期待しています。
2 | S | ダッシュボードが表示されるまで１分以上かかる。前は一瞬だった。
0 | S sp- | レポートが出ない、問い合わせの返信も遅い、最悪です。
3 | S | 週次レポートの自動配信が止まっている。アップデートの影響でしょうか？
7 | S | アップデートで追加された新しいフィルタは便利。ただ表示が少し遅くなったのが気になる。
2 | S | ダッシュボードが重い&amp;エラーが出る。改善されるまで使えない。
4 | S | アプデ後からレポート遅すぎ
3 | S ent kp | 10月のアップデート以降、週次レポートの生成が終わらなくなりました。サポートに問い合わせたところ「既知の不具合で対応中」との回答でしたが、いつ直るのか分からず、クライアントには手作業で集計した数字を出しています。告知もなかったので、まずは状況をきちんと共有してほしいです。このままだと来期の更新は難しいです。
5 | S | レポートの読み込み中にブラウザが固まる。Chromeでも Edge でも同じです。
2 | S | 新バージョンのレポート、重すぎて開けません💦
# --- UI --------------------------------------------------------------------------------
9 | | 画面が見やすく、直感的に操作できる。
4 | | UIが分かりにくい。メニューの階層が深すぎる。
7 | | 新しい画面デザインはおしゃれだけど、ボタンの位置がわかりずらい。
8 | | 管理画面がシンプルで使いやすいです。
5 | | 文字が小さくて見にくい。年配の社員から不評です。
6 | | スマホで見ると表示が崩れる。
7 | | ＵＩはきれいになったが、慣れるまで使いにくかった。
9 | en | Clean UI, easy to navigate.
# --- reports / dashboards --------------------------------------------------------------
9 | | ダッシュボードで主要指標がひと目で分かるのが良い。
10 | | レポートがそのまま経営会議に使えるクオリティで、作業時間が大幅に減りました。
5 | | レポートのカスタマイズ性が低い。
7 | | ダッシュボードは見やすいが、項目の並び替えができないのが不便。
8 | | レポート&amp;ダッシュボードの機能は申し分ないです。強いて言えば、モバイルで見たときに表が崩れるのを直してほしい。
9 | | レポートの自動配信のおかげで、毎週月曜の集計作業がなくなりました。
4 | ac- | GAの数値とレポートの数値が合わない。どちらが正しいのか説明してほしい。
5 | ac- | 集計の定義が分かりにくく、社内で数字の説明に苦労する。
# --- integrations / API ----------------------------------------------------------------
3 | | Salesforce連携がよく切れる。再認証の手間が多い。
4 | | API連携のドキュメントが不十分で、実装に苦労した。
9 | | ＡＰＩが使いやすく、社内システムとの連携もスムーズでした。
7 | | kintoneと連携出来ると嬉しいのですが。
8 | | Salesforce連携は便利。同期の頻度をもう少し上げてほしい。
5 | | APIのレート制限が厳しすぎて、データの取り込みが追いつかない。
7 | | API連係のサンプルコードがもう少しあると助かります。
4 | sp- | Ｓａｌｅｓｆｏｒｃｅとの同期エラーについて問い合わせたが、回答まで１週間かかった。
4 | en | The Salesforce integration keeps breaking after every sync.
9 | en | The API is well designed and the docs are clear.
5 | mix | Salesforce sync がよく fail する。早く fix してほしい。
# --- pricing ---------------------------------------------------------------------------
3 | | 機能に対して価格が高すぎる。
4 | | 値上げの説明が不十分だった。
7 | sm | コスパは悪くないと思うが、小規模企業には少し高い。
9 | | この価格でこの機能ならコスパはかなり良い。
5 | | 使わない機能も含めた料金体系なので割高に感じる。
7 | | 料金が高いとは思わない。ただ、プランの違いが分かりにくい。
8 | | 料金が高いとは感じていません。
2 | | 料金が高い。来期は更新しないかもしれません。
7 | | 機能は充実しているけど、料金が高い。
4 | sm en | Too expensive for a team our size.
# --- contract / billing ----------------------------------------------------------------
5 | | 請求書の発行が毎回遅れる。経理から催促されて困っています。
4 | | 契約更新の手続きが煩雑。紙の書類はやめてほしい。
6 | ac- | 請求書の宛名変更をお願いしたのに反映されていなかった。
8 | | 契約周りの対応はスムーズでした。
3 | | 解約の手続きが分かりにくく、電話でしか受け付けないのは不便。
7 | | 更新手続きの案内がもう少し早いと助かります。
5 | | 請求書が郵送のみなのは時代遅れだと思います。電子化してほしい。
# --- documentation / manuals -----------------------------------------------------------
4 | | マニュアルが分かりづらい。画面のキャプチャが古い。
5 | | ヘルプページを検索しても欲しい情報にたどり着けない。
8 | | ヘルプページが充実していて、大抵のことは自己解決できる。
6 | | マニュアルはあるが、量が多すぎて読む気にならない。動画があれば嬉しい。
7 | | ヘルプページに動画があればありがたいです。
5 | | ヘルプページを見ても分からず、結局サポートに電話することになった。
6 | en | Help docs are outdated; the screenshots don't match the current UI.
# --- events / webinars -----------------------------------------------------------------
9 | ev | ウェビナーの内容が実践的で、すぐに業務に活かせた。
8 | ev | セミナーで他社の担当者と情報交換できたのが良かった。
7 | ev | ウェビナーが初心者向けばかりなので、上級者向けもやってほしい。
9 | ev | ユーザー会に参加して、活用のヒントをたくさんもらえました。
6 | | セミナーの時間帯が平日昼間ばかりで参加しづらい。
8 | ev | 先月のウェビナー、とても分かりやすかったです。アーカイブ配信があると嬉しい。
9 | ev pr+ | セミナー後の個別相談会が役に立った。
5 | ev | ウェビナーの内容が製品紹介ばかりで物足りない。
7 | en | Webinars are useful, but the time slots don't work for our team in Singapore.
# --- newsletters -----------------------------------------------------------------------
6 | | メルマガの配信頻度が多すぎる。
8 | | メルマガの活用Tipsは毎回参考にしています。
6 | | メルマガは読んでいない。
5 | | メルマガの配信停止をしたのにまだ届く。
6 | | メルマガのタイトルが毎回似ていて、開封する気にならない。
8 | | メルマガで新機能を知ることが多いので助かる。
8 | | ウェビナーは良いがメルマガは多すぎる。
# --- case studies ----------------------------------------------------------------------
9 | | 事例記事が具体的で、社内で導入効果を説明するのに使えた。
7 | sm | 事例がもう少し中小企業向けのものだと参考になる。
8 | bu+ | 同業の事例を紹介してもらえたのが参考になりました。
7 | | 事例集がもっと業種別に整理されていると探しやすい。
6 | sm | 事例が大企業ばかりで参考にならない。
9 | ev | 事例紹介のセミナーで、他社の具体的なKPI設計を知れたのが大きかった。
9 | | メルマガで紹介されていた事例が参考になった。
# --- account manager / customer success ------------------------------------------------
10 | pr+ bu+ paid | 営業担当の方がいつも親身に相談に乗ってくれます。
10 | pr+ paid | カスタマーサクセスの方が毎月定例で課題を整理してくれるので、安心して任せられる。
3 | bu- | 担当者が頻繁に変わり、引き継ぎもされていない。
4 | sp- | 営業担当は契約前だけ熱心で、契約後は音沙汰なし。
8 | kn+ | 担当者の方はとても丁寧。もう少し頻度高く連絡をもらえると嬉しい。
5 | sp- | 担当者に連絡してもなかなか捕まらない。
9 | pr+ paid | 担当のCSさんが熱意を持って伴走してくれている。
9 | bu+ kn+ | 営業の方が業界の動向まで教えてくれるので、情報収集にもなっています。
3 | sp- | 担当者から連絡が来るのは更新の時だけ。
10 | pr+ paid | CSの方の伴走がなければここまで使いこなせていなかったと思います。
10 | pr+ en paid | Our account manager is proactive and genuinely cares about our results.
# --- passion / attitude ----------------------------------------------------------------
10 | | いつも親身になって対応してくださり、\nありがとうございます🙏
9 | | 丁寧な対応で安心感があります。
10 | pr+ | 熱意がすごい。こちらの成果を本気で考えてくれていると感じる。
4 | | 対応が機械的で、こちらの困りごとに寄り添ってもらえない。
3 | ph | 電話の対応が高圧的だった。
8 | | 皆さん丁寧で感じが良い。
9 | | ｻﾎﾟｰﾄの対応は早くて丁寧です。
10 | | どの担当の方も親切で、気持ちよくやりとりできています。
# --- general / short -------------------------------------------------------------------
9 | | 使いやすい
8 | | 満足しています。
10 | | 最高です！
7 | | 普通
9 | | 特に不満はありません。これからもよろしくお願いします。
6 | | 可もなく不可もなく。
10 | | 社内でも評判が良いです👍
7 | | だいたい満足。
3 | | 期待外れでした。
8 | | まあまあ良い
2 | | 他社に乗り換えを検討中。
9 | | 便利！
5 | | 改善に期待。
10 | | 同業の知人にもすでに勧めています。
9 | | 毎日使っています。手放せません。
8 | | 問題なし
7 | | 特に困っていない。
5 | | 悪くはないけど、良くもない。
9 | | サポートの対応に不満はありません。
# --- non-answers -----------------------------------------------------------------------
8 | | 特になし
7 | | とくになし
8 | | なし
9 | | 特になし。
7 | | 特に無し
8 | | ありません
9 | | 特にないです
8 | en | Nothing in particular.
# --- indirect complaints ---------------------------------------------------------------
3 | ac- | 結局自分で調べて解決しました。
4 | bu- | 毎回同じことを聞かれるので、情報を共有しておいてほしい。
4 | sp- | 問い合わせフォームに書いた内容をまた電話で説明させられた。
3 | sp- ph | 折り返しの電話を待っていたが、その日は来なかった。
5 | ac- | 返事は来るが「仕様です」の一言で終わる。
4 | | 何度も同じ説明をさせられた。社内で情報を共有してほしい。
5 | ph | 電話サポートの受付時間が短い。18時以降も対応してほしい。
8 | sp+ | チャットサポートがあるので気軽に聞ける。
# --- mixed sentiment -------------------------------------------------------------------
7 | sp+ ac- | 返信は早いが、内容が的外れなことがある。
7 | | 画面は見やすい。でも動作が重い。
5 | kn+ sp- | 担当者は詳しいのに、返事が遅いのがもったいない。
8 | kn+ | サポートは親切。マニュアルはもう少し充実させてほしい。
6 | | ツールは便利だが、サポートの対応にムラがある。
7 | | 導入時は手厚かったけど、最近はちょっと放置気味かな。
7 | kn+ sp- | サポートの方は丁寧で知識もあるのですが、問い合わせが混んでいるのか返事に時間がかかります。
7 | | データの取得は安定しているが、レポートの見た目が古臭い。
8 | | 分析機能は期待以上。請求書の発行だけもう少し早いと嬉しい。
# --- polite requests -------------------------------------------------------------------
8 | paid | 定例会の議事録を共有いただけると嬉しいです。
8 | | 管理者向けの研修があれば参加したいです。
7 | | 新機能のリリース情報を事前に教えていただけると助かります。
8 | | 可能であれば、ダッシュボードのテンプレートを増やしていただけると嬉しいです。
8 | | 操作説明の動画を用意していただけると、新しく入った社員にも展開しやすくて助かります。
# --- typos / odd notation --------------------------------------------------------------
9 | sp+ | 問い合わせの返診が早くて助かります
4 | | レポートの出力に時間がかかりすぎる。なんとかしてほいい。
9 | | サポートの方の対応が丁寧でありがたっかです
9 | | ダッシュボードが見やすくて使いやすいく、満足
9 | | 使い方がわかららないときにすぐ聞けるのが良い
6 | nodate | ログインのたびに二段階認証を求められるのが面倒。記憶する設定があればいいのに。
# --- mixed Japanese / English ----------------------------------------------------------
8 | mix | サポートの皆さん、always helpful です。ありがとうございます！
6 | mix | Overall good ですが、レポートの表示が slow なのが気になります。
9 | mix | ダッシュボードが very easy to use で、チームで重宝しています。
7 | mix | UIはnice。ただ、dashboardのloadingが少し遅いです。
4 | mix sp- | Please reply faster. 問い合わせの返事に３日かかりました。
8 | mix | Thanks for the great support! 今後ともよろしくお願いします。
# --- more English ----------------------------------------------------------------------
8 | en | No complaints about support.
9 | en | Not slow, not buggy, it just works.
6 | en | Not bad, but not great either.
8 | en | No complaints so far. It does what we need.
# --- long comments ---------------------------------------------------------------------
9 | pr+ kn+ paid | 導入して半年になります。最初は機能が多くて戸惑いましたが、カスタマーサクセスの方が毎月の定例で使い方を一つずつ教えてくださったおかげで、今ではチーム全員がダッシュボードを見ながら会議ができるようになりました。レポート作成にかかっていた時間が半分以下になり、本当に感謝しています。今後はSalesforce連携も試してみたいので、また相談させてください。
4 | sp- bu- | ツール自体は悪くないと思います。ただ、問い合わせをしても返信が来るまでに数日かかることが多く、その間に作業が止まってしまいます。また、担当者が変わるたびに弊社の状況を一から説明しなければならず、正直かなり負担です。サポート体制の見直しをお願いしたいです。このままだと他のツールへの乗り換えも検討せざるを得ません。
7 | kp | 機能面には満足しています。Salesforce連携も安定していて、営業チームからの評判も上々です。一方で、料金が毎年少しずつ上がっているのが気になります。来年度の予算を取るときに上長を説得する材料がほしいので、導入効果を数字で示せるような事例や資料があると助かります。引き続きどうぞよろしくお願いいたします。
10 | sp+ ac+ pr+ kp | 他社ツールから乗り換えました。前のツールではサポートに聞いても返事が遅く、回答も的外れなことが多かったのですが、こちらは質問の意図をすぐに理解して的確に答えてくれます。データの見方や施策の仮説まで一緒に考えてくれるので、単なるツール提供ではなくパートナーだと思っています。社内の他部署にもすでに紹介しています。
6 | pr- | 初期設定は担当の方が丁寧に手伝ってくれたので問題ありませんでした。ただ、その後の運用フェーズに入ってからは連絡が減り、活用方法がわからないまま数ヶ月が過ぎてしまいました。他社がどのような指標を見ているのか、成功事例などを定期的に共有していただけると嬉しいです。せっかく良いツールなので、もっと使いこなしたいと思っています。
8 | kp | ダッシュボードは見やすく、経営層への報告にもそのまま使えています。\nAPI連携も比較的簡単でした。改善してほしい点としては、CSV出力時に列の順番を指定できないこと、権限を部署単位で設定できないことの２点です。この２つが解決すれば、他部署にも展開したいと考えています。ご検討のほど、よろしくお願いいたします。
2 | ac- kp | 正直に言うと、契約前の説明と実際の機能にギャップがありました。営業担当の方は「できます」と言っていた連携機能が、実際には追加料金のオプションでした。問い合わせても明確な回答がなく、結局自分で調べてようやく分かりました。更新するかどうか社内で検討中です。契約前の説明はもう少し正確にしていただきたいです。
9 | ev | いつもありがとうございます。<br>ウェビナーで紹介されていた分析テンプレートを使ってみたところ、社内の評判がとても良かったです。<br>今後も実践的なコンテンツを期待しています。
5 | | 良い点：画面が見やすい、サポートが親切\n悪い点：動作が重い、レポートの自由度が低い\n総合的にはまあまあです。
9 | pr+ en paid | We've been using the platform for about a year. The dashboards are easy to share with leadership, and our CSM checks in every month with concrete suggestions. The only thing I'd change is the export options, which are still a bit limited.
4 | sp- en | Support is polite, but slow.\nWe raised a ticket about the Salesforce sync two weeks ago and are still waiting for a fix. For the price we pay, I expect faster turnaround.
7 | bu+ kn+ | 担当の方はとても熱心で、こちらの業界についても勉強してくださっているのが伝わります。一方、プロダクトの方はまだ発展途上という印象で、細かい不具合やUIの分かりにくさが目立ちます。担当者の頑張りに製品が追いついていないように感じます。プロダクトの改善にも期待しているので、要望は引き続き伝えていきます。
1 | sp- ac- bu- | 何度も同じ説明をさせられた。問い合わせのたびに担当が変わり、前回の経緯が全く共有されていない。回答も人によってバラバラで、どれが正しいのか分からない。正直、サポートにはもう期待していません。
10 | kn+ bu+ sm | 小さな会社なので専任のマーケターがいないのですが、担当の方がこちらのレベルに合わせて説明してくださるので助かっています。わからないことを何度聞いても嫌な顔ひとつせず、本当に親身です。この価格でここまでサポートしてもらえるとは思っていませんでした。同じような規模の知り合いの会社にも勧めています。
8 | | 要望です。\n・CSV出力で列を選べるようにしてほしい\n・ダッシュボードを複製できるようにしてほしい\n・ヘルプページに検索機能を付けてほしい\n以上、ご検討ください。
3 | sp- ac- | 10/3に問い合わせた件、まだ回答をいただけていません。催促のメールを２回送りましたが、自動返信が返ってくるだけです。&lt;至急&gt;と書いたのですが、優先度の付け方はどうなっているのでしょうか。
9 | bu+ pr+ kp | 当社は店舗とECの両方を運営しているのですが、その特殊な事情を踏まえてダッシュボードの設計から一緒に考えていただきました。業界理解があるからこその提案だと思います。&amp;今後もよろしくお願いします。
# --- more variety (mid length) ---------------------------------------------------------
9 | | 必要な数字がすぐに見られるので、朝会の準備が楽になりました。
8 | | 全体的に満足しています。細かいところで使いにくい点はありますが、大きな不満はありません。
10 | kp | 費用対効果は十分。経営陣からも継続の承認が出ています。
7 | | 最近、画面の読み込みが少し遅く感じることがあります。
9 | sp+ kn+ | チャットで聞くとすぐに詳しい人につないでくれるのが良い。
4 | sp- | サポートのメール返信に時間がかかり、その間ずっと作業が止まっていました。
5 | | ログイン画面でエラーが出て入れないことが月に何度かある。
7 | | 機能は十分。あとはもう少し安ければ言うことなし。
3 | sm free | Freeプランだと問い合わせの窓口がフォームしかなく、返事も遅い。
8 | kn+ | 操作で詰まったときに、画面共有で丁寧に教えてもらえました。
9 | | 導入前に聞いていた通りの機能で、ギャップがなかった。
6 | | ヘルプページの情報が古い。新しい画面に合わせて更新してほしい。
9 | pr+ | 分析レポートの読み解き方まで教えてもらえるので、社内に知見がたまってきた。
5 | | タグの設定が分かりにくく、計測が正しくできているか不安。
10 | | 前任者から引き継ぎましたが、担当の方のおかげですぐに使いこなせるようになりました。
7 | | ダッシュボードの表示項目は十分だが、もう少し見た目をカスタマイズしたい。
4 | | 導入して３ヶ月経つが、まだ効果が見えていない。
8 | | 最近のアップデートでフィルタが使いやすくなった。
3 | | 担当の方に何度お願いしても、請求書の送付先が直らない。
9 | | いつもスピーディーに対応してもらっています。出来れば今の担当の方に長く続けてほしいです。
6 | | 管理画面の権限周りが複雑で、新メンバーを追加するたびに迷う。
7 | sp+ | 問合せへの返信は早いが、根本的な解決にはならないことがある。
8 | | ユーザー会で他社の使い方を見られたのは参考になった。
5 | | データの反映に半日くらいかかるのが不便。リアルタイムで見たい。
9 | kn+ ac+ | 設定で困ったときも、サポートの方が原因をすぐ特定してくれました。
2 | sp- | 不具合を報告しても「再現しない」と言われて終わり。
10 | | 他部署にも勧めて、来月から利用部門が増える予定です。
6 | | 英語版の画面がところどころ日本語のままになっている。
8 | | 大きな不満はない。強いて言えばログインが少し面倒。
7 | | グラフの種類がもっと増えると嬉しいです。
4 | | ダッシュボードの設定が保存されないことがある。
9 | | 細かい要望にも耳を傾けてくれる姿勢が嬉しいです。
6 | ph | 電話で問い合わせると待ち時間が長い。
10 | | 正直、このツールなしでは今の業務は回りません。
5 | | 前の担当の方は良かったのですが、今の方はまだ慣れていないようです。
9 | | CSV出力もワンクリックで簡単。助かってます。
7 | | 特に不満はないが、他社と比べて突出した強みも感じない。
8 | | 操作は分かりやすい。マニュアルをほとんど見なくても使えた。
# --- more praise -----------------------------------------------------------------------
10 | sp+ kn+ ac+ | 問い合わせるとすぐに的確な答えが返ってくるので、社内の誰もがサポートを頼りにしています。
9 | sp+ | 急ぎの相談にも当日中に対応していただき、本当に助かりました。
10 | | 導入してからレポート作成の工数が月20時間くらい減りました。
9 | kp | ダッシュボードを経営会議でそのまま映しています。見やすいと好評です。
9 | kn+ | 担当の方がGoogle広告の仕様にも詳しく、計測設計の相談までできました。
10 | pr+ bu+ paid | 毎月の定例で、弊社の商材に合わせた改善案を出してくれるのがありがたい。
9 | | 初期設定がほとんど自動で終わったので、想定よりずっと早く使い始められた。
9 | | 操作がシンプルで、ITに詳しくないメンバーでもすぐに使えています。
10 | | 他のツールも色々試しましたが、ここが一番使いやすいです。
9 | ev | ウェビナーのアーカイブが見られるので、忙しくても後から追いつけて便利です。
9 | | ヘルプページの説明が丁寧で、ほとんど自己解決できています。
10 | sp+ | 不具合を報告したら翌日には修正されていて驚きました。対応が早い！
9 | | Salesforce連携の設定が思ったより簡単で、営業部門にもすぐ展開できた。
9 | | API経由で社内のBIにデータを流せるのが非常に便利。
9 | | 料金は安くはないですが、それ以上の価値があると思っています。
10 | | コスパ最高です。もっと早く導入すればよかった。
9 | | 請求書や契約の手続きもオンラインで完結するので楽です。
9 | | メルマガのTipsを真似したら、レポートの見せ方が良くなりました。
9 | | 事例インタビューが具体的で、上司への説明資料に使わせてもらいました。
10 | kn+ pr+ paid | カスタマーサクセスの方が本当に頼りになる。困ったときに真っ先に相談する相手です。
9 | | 丁寧で感じの良い対応をいつもありがとうございます😊
10 | kp | 担当の方の熱意に動かされて、社内の推進体制を作ることができました。
9 | bu+ | 業界の商習慣を理解した上で話をしてくれるので、説明の手間がかからない。
9 | ac+ | 数字の定義について質問したら、根拠付きで分かりやすく説明してもらえました。
9 | | UIが洗練されていて、触っていて気持ちがいい。
10 | | レポートの自動配信で、毎週の報告業務がほぼゼロになりました👍
9 | | 画面の反応が速く、大量のデータでもサクサク動きます。
9 | | アップデートのたびに使いやすくなっているのを感じます。
9 | | 他部署からも「これ何のツール？」と聞かれるくらい見やすいです。
10 | sp+ ac+ | レスポンスが早く、回答も正確。言うことなしです。
9 | | 分からないことがあっても、チャットですぐ聞けるので安心。
9 | pr+ paid | 定例会で出てくる他社の傾向の話がいつも参考になります。
10 | | 導入前の不安を一つずつ解消してもらえたので、安心して契約できました。
9 | sp+ | 問い合せの返事が早いので、作業が止まることがほとんどない。
9 | | CSV出力が柔軟で、Excelでの加工もしやすい。
9 | | 不満は特にありません。サポートもツールも満足しています。
10 | | マーケ部門のメンバー全員が毎日開いています。なくてはならないツールです。
9 | | 使い方の動画が分かりやすく、新人の教育に役立っています。
9 | | オンボーディングのスケジュールが明確で、迷わず進められた。
9 | kn+ | サポートの方が弊社の設定を確認して、計測漏れを見つけてくれました。
10 | pr+ | 私たちが気づいていなかった課題をデータから指摘してもらえた。
9 | ent | セキュリティチェックシートへの回答も迅速で、情シスの審査がスムーズに通りました。
9 | | ダッシュボードの共有機能が便利で、代理店とのやりとりが楽になった。
9 | | 問題なく使えています。とても満足です。
10 | | 最高のツールとサポートです🙏
9 | | 以前使っていたツールより圧倒的に分かりやすい。
9 | | 機能追加の要望を出したら、半年後に本当に実装されていて嬉しかったです。
9 | | 集計の手間が減った分、施策を考える時間が増えました。
10 | | 導入して本当に良かったと思えるツールです。
9 | sp+ | メールでの問い合わせにも数時間以内に返事が来るので安心です。
9 | | 画面の構成が分かりやすいので、マニュアルを読まなくてもだいたい使えます。
9 | kn+ | サポートの方がAPIの仕様にとても詳しく、実装の相談にも乗ってもらえました。
9 | ev | 新機能の説明会が分かりやすかったです。
10 | bu+ | こちらの業界の繁忙期を把握していて、その時期を避けて定例を設定してくれる気配りがありがたい。
9 | | 営業担当の方のフォローが丁寧で、契約更新もスムーズでした。
9 | | セグメント分析の機能が強力で、ターゲティングの精度が上がりました。
9 | | ヘルプページの検索が賢くなって、目的の記事にすぐたどり着けるようになった。
10 | | 使いやすさ、サポート、価格のバランスが良い。
9 | | ダッシュボードのテンプレートが豊富で、すぐに使い始められた。
9 | | 不具合が起きたときの告知と復旧が早く、信頼できると感じました。
9 | ac+ | 問合せへの回答がいつも正確で、二度聞きすることがない。
10 | | 他社に勧めたら、その会社も導入を決めたそうです。
9 | | 資料請求から導入まで、どの担当の方も感じが良かったです。
9 | | データの取り込みが安定していて、欠損がほとんどない。
9 | ev | ウェビナーで紹介された分析手法を社内で真似しています。
9 | | 直感的に操作出来るので、研修なしで現場に展開できました。
10 | sp+ kn+ | 対応のスピードも、知識の深さも申し分ありません。
9 | paid | 無料プランから始めましたが、機能に満足して有料プランに切り替えました。
9 | | ＵＩが分かりやすく、説明しなくても皆使えている。
9 | | 必要な機能が揃っていて、余計な機能がないのが良い。
9 | | スマホでもダッシュボードが見られるので、外出先でも確認できて便利です。
9 | en | Great product, and the team actually listens to feedback.
10 | en | Setup took less than a week. Very happy with it.
9 | en kp | Dashboards are clear and our executives love them.
9 | en | Everything works as advertised. Support is great too.
10 | en | Best analytics tool we've used. Highly recommend.
9 | mix sp+ | サポートの対応が super fast で、いつも助かっています。
10 | pr+ kn+ bu+ kp | 昨年まではExcelで手作業で集計していたのですが、導入後は毎朝ダッシュボードを確認するだけで状況が分かるようになりました。担当の方が当社の商流を理解したうえで指標の設計から手伝ってくださったので、現場にもスムーズに定着しました。数字を見て議論する文化ができたのが一番の成果だと思います。
9 | sp+ kn+ | 先日、キャンペーン前日にデータが取れていないことに気づき、夕方に問い合わせました。その日のうちに原因を特定していただき、翌朝には無事に計測できるようになっていました。担当の方の迅速な対応のおかげで、キャンペーンを予定通り開始できました。本当にありがとうございました。
9 | ev | ユーザー会に初めて参加しました。他社の担当者の方と、レポートの見せ方や社内での巻き込み方について情報交換ができて、とても有意義でした。<br>次回はもう少し少人数のグループディスカッションの時間があると嬉しいです。<br>運営の皆さま、ありがとうございました。
3 | sp- ac- | 計測タグの設定について３回問い合わせましたが、毎回違う人が対応し、言われることも微妙に違いました。最終的には自分でヘルプページとフォーラムを読み込んで解決しましたが、それならサポートの意味がないと思います。担当者間で過去の問い合わせ履歴を共有する仕組みを作ってほしいです。
8 | | 全体としては満足しています。特にダッシュボードの見やすさとサポートの丁寧さは他社より上だと思います。一方で、レポートのテンプレートが少なく、毎回ゼロから作るのが手間です。業種別のテンプレートや、他社がよく使っている構成のサンプルがあればもっと活用できると思います。
9 | sp+ | 問い合わせの返信が遅いと感じたことはありません。
9 | | 操作が難しいと感じたことは特にないです。
9 | | 料金についても不満はありません。妥当だと思います。
10 | | 不具合らしい不具合に遭遇したことがない。安定感抜群。
9 | | ダッシュボードの表示も遅くないし、快適に使えています。
9 | en sp+ | No complaints at all. Support is quick and the reports are reliable.
9 | kn+ | 担当の方の説明がいつも分かりやすく、社内への共有もしやすいです。
10 | pr+ | 提案の質が高い。単なる機能説明ではなく、成果につながる打ち手を一緒に考えてくれる。
9 | | 導入時の初期設定代行サービスが非常に助かりました。
9 | ev | 先日のセミナー、事例が豊富で分かりやすかったです。
9 | | メルマガで知った新機能を早速使っています。便利！
9 | bu+ pr+ sm | 弊社のような中小企業の事情にも合わせた使い方を提案してくれるのがありがたい。
10 | | チーム全員が満足しています。引き続きよろしくお願いします！
9 | | 連携できるサービスが多く、既存の仕組みをそのまま活かせた。
9 | | ＣＳＶ出力もＡＰＩも揃っていて、データ活用の幅が広い。
10 | sp+ ac+ pr+ | 返事が早い、説明が丁寧、提案が的確。三拍子そろっています。
# --- more passives ---------------------------------------------------------------------
8 | | 使い勝手は良い。たまに動作がもたつくのが気になる程度。
8 | sp+ | 問い合わせへの返信は早い。マニュアルがもう少し充実すると嬉しい。
7 | | 機能は十分だが、使いこなせているのは一部のメンバーだけ。
8 | | 大きな問題はなし。細かい改善は続けてほしい。
8 | | 導入時の支援は手厚かった。運用開始後も定期的に声をかけてもらえると嬉しい。
7 | | レポートは見やすいが、グラフの種類が少ない。
8 | kn+ | 担当者は親切で詳しい。ただ、説明が少し長いかな。
7 | | 価格相応だと思います。
8 | en | Solid tool. A few rough edges in the UI, but nothing serious.
"""

# One row per kind of input that koe must quarantine, placed at fixed positions in the file.
# (position = index in the final row list before ids are assigned, text, score)
BAD_ROWS = [
    (17, "empty_text", "", "5"),
    (58, "whitespace_only", "   ", "7"),
    (97, "score_non_numeric", "担当の方の説明が分かりやすく、すぐに設定できました。", "10点"),
    (139, "emoji_only", "👍👍👍", "10"),
    (176, "score_missing", "レポートの自動配信が便利です。", ""),
    (214, "whitespace_only", "\u3000\u3000", "8"),
    (253, "score_non_numeric", "画面が重いのを直してほしい。", "abc"),
    (291, "punctuation_only", "。。。", "6"),
    (332, "score_out_of_range", "サポートの対応がとにかく早い。満点以上です！", "11"),
    (371, "score_out_of_range", "最悪。二度と使いたくない。", "-1"),
    (415, "punctuation_only", "…", "5"),
    # duplicate_id is added separately: it re-uses an earlier row's id.
]
DUPLICATE_AT = 452  # position of the duplicate-id row
DUPLICATE_OF = 40  # it re-uses the id of the row at this position
DUPLICATE = ("duplicate_id", "導入時の説明が分かりやすかったです。", "9")

START = dt.date(2026, 9, 7)
END = dt.date(2026, 11, 1)
RELEASE = dt.date(2026, 10, 20)  # the release behind the late-October spike

PLANS = ("Free", "Standard", "Enterprise")
SIZES = ("1-49", "50-299", "300+")


def parse_bank(text: str) -> list[dict]:
    items = []
    for raw in text.strip().splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        score, hints, comment = (p.strip() for p in re.split(r"\s*\|\s*", raw, maxsplit=2))
        items.append(
            {
                "score": int(score),
                "hints": hints.split(),
                "text": comment.replace("\\n", "\n"),
            }
        )
    return items


def sub_scores(
    rng: random.Random,
    score: int,
    hints: list[str],
    blank_row: float = 0.04,
    blank_cell: float = 0.065,
) -> dict[str, str]:
    out = {}
    skip_all = rng.random() < blank_row
    for code, col in SUBS.items():
        if skip_all or rng.random() < blank_cell:
            out[col] = ""
            continue
        v = 1.0 + score * 0.4 + rng.gauss(0, 0.55)
        if f"{code}+" in hints:
            v = max(v + 1.0, 4.0)
        if f"{code}-" in hints:
            v = min(v - 1.3, 2.4)
        out[col] = str(min(5, max(1, round(v))))
    return out


def make_customers(rng: random.Random, n: int = 180) -> list[dict]:
    customers = []
    for i in range(1, n + 1):
        plan = rng.choices(PLANS, weights=(25, 50, 25))[0]
        size_w = {"Free": (70, 25, 5), "Standard": (35, 45, 20), "Enterprise": (5, 30, 65)}[plan]
        size = rng.choices(SIZES, weights=size_w)[0]
        customers.append({"customer_id": f"C{i:03d}", "plan": plan, "company_size": size})
    return customers


def pick_date(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    # B2B respondents answer mostly on weekdays.
    while True:
        d = lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))
        if d.weekday() < 5 or rng.random() < 0.25:
            return d


def build_survey() -> list[dict]:
    rng = random.Random(20261101)
    bank = parse_bank(BANK)
    rng.shuffle(bank)
    customers = make_customers(rng)
    by_id = {c["customer_id"]: c for c in customers}

    # Dates: the spike rows fall after the release, everything else evenly over 8 weeks.
    for item in bank:
        if "S" in item["hints"]:
            item["date"] = pick_date(rng, RELEASE, END)
        else:
            item["date"] = pick_date(rng, START, END)

    # Customers: every customer answers at least once; the rest are repeat answers, never twice
    # in the same week.
    order = list(range(len(bank)))
    rng.shuffle(order)
    answered: dict[str, list[dt.date]] = {}

    def fits(cust: dict, item: dict) -> bool:
        h = item["hints"]
        if "sm" in h and cust["company_size"] != "1-49":
            return False
        if "ent" in h and cust["plan"] != "Enterprise":
            return False
        if "paid" in h and cust["plan"] == "Free":
            return False
        if "free" in h and cust["plan"] != "Free":
            return False
        return all(abs((item["date"] - d).days) >= 7 for d in answered.get(cust["customer_id"], []))

    unused = [c["customer_id"] for c in customers]
    rng.shuffle(unused)
    for idx in order:
        item = bank[idx]
        cid = next((c for c in unused if fits(by_id[c], item)), None)
        if cid is not None:
            unused.remove(cid)
        else:
            pool = [c["customer_id"] for c in customers if fits(c, item)]
            # a few loyal respondents answer more often
            weights = [3 if int(c[1:]) % 7 == 0 else 1 for c in pool]
            cid = rng.choices(pool, weights=weights)[0]
        item["customer_id"] = cid
        answered.setdefault(cid, []).append(item["date"])
    assert not unused, f"customers without an answer: {unused}"

    rows = []
    for item in sorted(bank, key=lambda it: (it["date"], rng.random())):
        h = item["hints"]
        cust = by_id[item["customer_id"]]
        if "ev" in h:
            channel = rng.choices(("event", "email", "web"), weights=(70, 15, 15))[0]
        elif "ph" in h:
            channel = "phone"
        else:
            channel = rng.choices(("email", "web", "phone", "event"), weights=(50, 32, 10, 8))[0]
        role = "key_person" if "kp" in h else rng.choices(("key_person", "end_user"), (40, 60))[0]
        row = {
            "customer_id": cust["customer_id"],
            "date": "" if "nodate" in h else item["date"].isoformat(),
            "score": str(item["score"]),
            "text": item["text"],
            **sub_scores(rng, item["score"], h),
            "plan": cust["plan"],
            "company_size": cust["company_size"],
            "channel": channel,
            "role": role,
        }
        rows.append(row)

    # Plant the bad rows, each dated like its neighbours.
    def bad_row(text: str, score: str, near: int) -> dict:
        cust = rng.choice(customers)
        return {
            "customer_id": cust["customer_id"],
            "date": rows[max(0, near - 1)]["date"] or rows[near - 2]["date"],
            "score": score,
            "text": text,
            **sub_scores(rng, int(score) if score.lstrip("-").isdigit() else 5, []),
            "plan": cust["plan"],
            "company_size": cust["company_size"],
            "channel": rng.choice(("email", "web")),
            "role": rng.choice(("key_person", "end_user")),
        }

    for pos, _kind, text, score in sorted(BAD_ROWS):
        rows.insert(pos, bad_row(text, score, pos))
    dup = bad_row(DUPLICATE[1], DUPLICATE[2], DUPLICATE_AT)
    rows.insert(DUPLICATE_AT, dup)
    n = 0
    for row in rows:
        if row is not dup:
            n += 1
            row["id"] = f"R{n:04d}"
    dup["id"] = rows[DUPLICATE_OF]["id"]  # same id as an earlier row, different text
    return rows


MINI_ROWS = [
    # id, customer, date, score, text, hints, plan, size, channel, role
    ("M01", "C001", "2026-10-01", "3", "問合せの返信が遅い。", "sp-"),
    ("M02", "C002", "2026-10-01", "6", "説明は丁寧だが、返信が遅い。", "sp- kn+"),
    ("M03", "C003", "2026-10-02", "9", "レスポンスは遅くないし、不満はないです。", "sp+"),
    ("M04", "C004", "2026-10-02", "5", "レポート機能が使いにくいので改善してほしい。", ""),
    ("M05", "C005", "2026-10-05", "10", "担当者の知識が豊富で助かりました！", "kn+"),
    ("M06", "C006", "2026-10-05", "5", "", ""),
    ("M07", "C007", "2026-10-06", "2", "料金が高い", ""),
    ("M08", "C008", "2026-10-06", "10", "The support team is very responsive and helpful.", "sp+"),
    ("M09", "C009", "2026-10-07", "1", "ＡＰＩ連携でエラーが出る😭", ""),
    ("M10", "C010", "2026-10-08", "8", "特になし", ""),
    ("M11", "C011", "2026-10-08", "abc", "良い", ""),
    ("M12", "C012", "2026-10-09", "9", "お問い合わせへの回答が的確でした", "ac+"),
    ("M13", "C013", "2026-10-12", "9", "導入時の初期設定を丁寧にサポートしてもらえました。", ""),
    ("M14", "C014", "2026-10-12", "4", "マニュアルが分かりにくく、結局自分で調べた。", "ac-"),
    ("M15", "C015", "2026-10-13", "10", "ダッシュボードが見やすい👍", ""),
    ("M16", "C016", "2026-10-14", "7", "CSV出力機能があれば嬉しいです。", ""),
    ("M17", "C017", "2026-10-15", "3", "アップデート後、画面の表示に時間がかかる。", ""),
    ("M18", "C018", "2026-10-15", "9", "Not slow, no complaints.", "sp+"),
    ("M19", "C019", "2026-10-16", "9", "担当者が弊社の業界をよく理解してくれている。", "bu+"),
    ("M20", "C020", "2026-10-19", "2", "Salesforce連携が頻繁に切れる。", ""),
    ("M21", "C021", "2026-10-19", "9", "ウェビナーの内容が実践的で参考になった。", ""),
    ("M22", "C001", "2026-10-20", "2", "何度も同じ説明をさせられた。", "bu- sp-"),
    ("M23", "C022", "2026-10-21", "4", "使い方がわからない。もう少し操作を簡単にしてほしい。", ""),
    ("M24", "C023", "2026-10-22", "7", "改善の提案をしていただけると助かります。", "pr-"),
    ("M25", "C024", "2026-10-22", "6", "Reports are great, but the loading time is too long.", ""),
    ("M26", "C005", "2026-10-23", "5", "請求書の発行が遅い。<br>経理が困っています。", ""),
    ("M27", "C025", "2026-10-26", "7", "サポートは親切です。\nただ、電話がつながりにくい。", "sp-"),
    ("M28", "C026", "2026-10-27", "6", "メルマガの配信が多すぎる。", ""),
    (
        "M29",
        "C027",
        "2026-10-28",
        "10",
        "熱意のある担当者さんで、いつも親身に相談に乗ってくれます🙏",
        "pr+ bu+",
    ),
    ("M30", "C028", "2026-10-28", "9", "価格に見合った価値があると思います。", ""),
]


def build_mini() -> list[dict]:
    rng = random.Random(30)
    customers = {c["customer_id"]: c for c in make_customers(rng, 30)}
    rows = []
    for rid, cid, date, score, text, hints in MINI_ROWS:
        cust = customers[cid]
        s = int(score) if score.isdigit() else 5
        subs = sub_scores(rng, s, hints.split(), blank_row=0.0, blank_cell=0.0)
        if rid in ("M07", "M20"):  # a couple of skipped sub-score questions
            subs["sub_proposal"] = ""
            subs["sub_business_understanding"] = ""
        if rid == "M16":
            subs = dict.fromkeys(subs, "")
        channel = (
            "event"
            if rid == "M21"
            else "phone"
            if rid == "M27"
            else rng.choice(("email", "email", "web", "web", "phone"))
        )
        rows.append(
            {
                "id": rid,
                "customer_id": cid,
                "date": date,
                "score": score,
                "text": text,
                **subs,
                "plan": cust["plan"],
                "company_size": cust["company_size"],
                "channel": channel,
                "role": rng.choice(("key_person", "end_user", "end_user")),
            }
        )
    return rows


def csv_field(value: str) -> str:
    # RFC 4180: quote fields with a comma, quote or line break; also quote leading/trailing
    # whitespace so that no reader strips it.
    if any(ch in value for ch in ',"\r\n') or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


def write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(COLUMNS)]
    lines += [",".join(csv_field(row[c]) for c in COLUMNS) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")


def main() -> None:
    write_csv(SURVEY, build_survey())
    write_csv(MINI, build_mini())
    print(f"wrote {SURVEY} and {MINI}")


if __name__ == "__main__":
    main()
