"""Chinese, French, German and Spanish sentence banks for the sample site."""

from __future__ import annotations

ZH_SLOTS: dict[str, dict[str, list[str]]] = {
    "science": {"who": ["中国科学院的研究人员", "一支国际天文团队", "海洋生物学家", "地质学家"],
                "thing": ["深海沉积物", "一颗遥远的系外行星", "珊瑚礁中的细菌", "高原冰川的融水"],
                "finding": ["比过去的模型预测的变化更大", "在几个小时内就对温度变化做出反应",
                            "储存的碳比之前估计的更多", "含有一种此前从未发现的化学特征"]},
    "technology": {"who": ["开源社区的开发者", "一家深圳的创业公司", "云计算平台的工程师", "数据库团队"],
                   "thing": ["新的查询优化器", "容器的启动时间", "移动应用的内存占用", "分布式存储系统"],
                   "finding": ["将平均延迟降低了将近百分之四十", "彻底消除了一类并发错误",
                               "让增量编译的速度提高了三倍", "大大简化了对外接口"]},
    "news": {"who": ["市政府", "交通部门", "当地居民", "人大代表"],
             "thing": ["新的住房政策", "地铁线路的延长计划", "公共图书馆的经费", "城市防洪工程"],
             "finding": ["将在夏季之前再次审议", "因为预算问题推迟了几个月", "在听证会上引起了激烈讨论",
                         "最终以微弱多数获得通过"]},
    "sports": {"who": ["主队", "年轻的前锋", "教练组", "老将门将"],
               "thing": ["下半场的比赛", "冠军争夺战", "点球大战", "最后一圈的冲刺"],
               "finding": ["在最后十分钟扭转了局面", "刷新了俱乐部的连胜纪录",
                           "因为一次有争议的判罚而决定胜负", "让球迷们在终场哨响后久久不愿离去"]},
    "cooking": {"who": ["家庭厨师", "餐厅的主厨", "我们的试菜厨房", "面点师傅"],
                "thing": ["慢炖的番茄牛腩", "手工拉面", "红烧肉", "清蒸鲈鱼"],
                "finding": ["第二天吃味道更好", "其实不需要放那么多糖", "火候到位才能做出香脆的口感",
                            "可以提前一天准备好"]},
    "finance": {"who": ["央行官员", "债券投资者", "多家券商的分析师", "小微企业主"],
                "thing": ["长期利率", "房地产市场", "人民币汇率", "居民储蓄"],
                "finding": ["连续第三个月上涨", "在最新通胀数据公布后略有回落", "明显低于疫情前的趋势",
                            "在一个动荡的季度之后趋于稳定"]},
    "health": {"who": ["医生", "一项大型队列研究", "公共卫生专家", "睡眠研究人员"],
               "thing": ["规律的适度运动", "老年人的血压", "睡前使用手机", "膳食纤维的摄入"],
               "finding": ["降低了住院的风险", "在几周内改善了睡眠质量", "与更好的长期健康结果有关",
                           "比运动的种类更重要"]},
}

ZH_TEMPLATES = [
    "{who}表示，{thing}{finding}。",
    "根据最新的调查结果，{thing}{finding}。",
    "多年来，{who}一直在关注{thing}的变化。",
    "让{who}感到意外的是，{thing}{finding}。",
    "不过，{who}提醒大家，现在就对{thing}下结论还为时过早。",
    "{who}计划在明年继续研究{thing}，并公开全部数据。",
    "业内人士认为，{thing}{finding}，这一点值得进一步讨论。",
    "这件事最早是在去年春天引起注意的。",
    "当时很少有人想到，事情会发展得这么快。",
    "记者在采访中发现，不同的人对此看法并不一致。",
    "有人觉得这只是暂时的现象，也有人认为趋势已经形成。",
    "{who}在接受采访时说，目前掌握的数据还不够多。",
    "为了弄清原因，他们花了几个月时间收集资料。",
    "一位不愿透露姓名的专家指出，过去也出现过类似的情况。",
    "这样的结果在一定程度上改变了人们原有的看法。",
    "与此同时，关于{thing}的讨论在网上持续升温。",
    "很多读者留言询问，普通人应该怎样看待这些变化。",
    "对此，专家的建议是保持耐心，不要急于下结论。",
    "从长远来看，{thing}仍然是一个值得关注的话题。",
    "相关报告预计将在今年年底正式发布。",
    "有分析认为，成本和时间是接下来最大的挑战。",
    "我们将继续跟踪这一话题，并及时报道最新进展。",
    "值得一提的是，{who}此前也曾提出过类似的观点。",
    "据了解，这项工作得到了多家机构的支持。",
    "在不少人看来，这些变化来得比预想中更早。",
]

ZH_TITLES = ["{thing}的新变化", "{who}谈{thing}", "关于{thing}，我们知道些什么"]
ZH_SITE = "环球资讯网"
ZH_CHROME = {"nav": ["首页", "新闻", "科技", "体育", "财经", "健康", "美食"],
             "cookie": "本网站使用 Cookie 来改善您的浏览体验。继续浏览即表示您同意我们的隐私政策。",
             "footer": "版权所有 © 2026 环球资讯网 保留所有权利 | 联系我们 | 隐私政策"}

EURO: dict[str, dict[str, object]] = {
    "fr": {
        "site": "Le Journal du Matin",
        "title": ["La cuisine de saison revient à la mode", "Les chercheurs observent les glaciers des Alpes",
                  "Le conseil municipal débat du budget"],
        "sentences": [
            "Les habitants du quartier se sont réunis mardi soir pour discuter du nouveau projet.",
            "Selon les chercheurs, les glaciers des Alpes ont perdu une part importante de leur volume.",
            "La recette traditionnelle demande du temps, mais le résultat en vaut vraiment la peine.",
            "Le maire a promis de publier un calendrier précis avant la fin du mois.",
            "Plusieurs associations estiment que la réforme ne répond pas aux vrais besoins des familles.",
            "Il faut laisser mijoter la sauce à feu doux pendant au moins deux heures.",
            "Les données recueillies pendant l'été confirment une tendance observée depuis dix ans.",
            "Les commerçants du centre-ville attendent des mesures concrètes pour le stationnement.",
        ],
        "cookie": "Ce site utilise des cookies pour améliorer votre expérience. Tout accepter.",
        "footer": "© 2026 Le Journal du Matin. Tous droits réservés. Mentions légales.",
        "nav": ["Accueil", "Actualités", "Cuisine", "Sciences"],
    },
    "de": {
        "site": "Tagesblick Online",
        "title": ["Neue Studie zur Energiewende", "Der Stadtrat streitet über Radwege", "Brotbacken wie früher"],
        "sentences": [
            "Die Forscher haben über drei Jahre hinweg Messdaten aus ganz Deutschland ausgewertet.",
            "Der Stadtrat konnte sich am Donnerstag nicht auf einen gemeinsamen Plan einigen.",
            "Viele Bürger wünschen sich sichere Radwege und weniger Verkehr in der Innenstadt.",
            "Für ein gutes Roggenbrot braucht man vor allem Geduld und einen kräftigen Sauerteig.",
            "Die Ergebnisse der Studie sollen im Herbst in einer Fachzeitschrift erscheinen.",
            "Kritiker bemängeln, dass die Kosten des Projekts bisher kaum transparent sind.",
            "Der Teig sollte mindestens zwölf Stunden an einem kühlen Ort ruhen.",
        ],
        "cookie": "Diese Website verwendet Cookies, um Ihr Erlebnis zu verbessern. Alle akzeptieren.",
        "footer": "© 2026 Tagesblick Online. Alle Rechte vorbehalten. Impressum | Datenschutz",
        "nav": ["Startseite", "Politik", "Wissen", "Genuss"],
    },
    "es": {
        "site": "Diario del Sur",
        "title": ["El equipo local gana el clásico", "Cómo preparar una paella auténtica",
                  "Nuevas medidas para el transporte público"],
        "sentences": [
            "El equipo local remontó el partido en los últimos minutos gracias a un gol de cabeza.",
            "La paella auténtica se cocina a fuego vivo y sin remover el arroz al final.",
            "El ayuntamiento anunció nuevas líneas de autobús que conectarán los barrios del norte.",
            "Los aficionados celebraron la victoria en las calles hasta bien entrada la noche.",
            "Según los expertos, el azafrán de buena calidad marca la diferencia en el sabor.",
            "Los vecinos esperan que las obras terminen antes del comienzo del curso escolar.",
            "El entrenador destacó el esfuerzo colectivo y la disciplina táctica de sus jugadores.",
        ],
        "cookie": "Este sitio utiliza cookies para mejorar su experiencia. Aceptar todas.",
        "footer": "© 2026 Diario del Sur. Todos los derechos reservados. Aviso legal.",
        "nav": ["Portada", "Deportes", "Cocina", "Ciudad"],
    },
}

LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore "
         "et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut "
         "aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum "
         "dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui "
         "officia deserunt mollit anim id est laborum.")

SPAM_KEYWORDS = ["cheap watches", "best price", "buy now", "free shipping", "casino bonus", "weight loss pills",
                 "crypto profit", "discount viagra", "replica handbags", "payday loans"]
